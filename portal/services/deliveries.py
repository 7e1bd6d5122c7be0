"""Deliveries: the outbox rows of calls to FlexCharge, performed by background jobs.

A job delivers one row: it claims the row with a conditional UPDATE (pending and due, or no
claim), so two workers never deliver the same row, then calls FlexCharge with no database
transaction open, then records the outcome under its claim. A retryable failure (no answer,
5xx, 401, 409, 429) is retried with exponential backoff and jitter; any other 4xx, or the last
attempt, leaves the row "failed" with the error, for a person to "Retry now". A periodic task
enqueues rows left pending too long and frees claims of crashed workers, so a crash between
the commit and the enqueue, or during a delivery, loses nothing.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update

from portal.clients.flexcharge import FlexChargeError
from portal.extensions import db
from portal.models import (
    Delivery,
    DeliveryKind,
    DeliveryState,
    EvaluateState,
    Transaction,
    TransmitState,
)
from portal.models.base import utcnow
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict
from portal.services.flexcharge_access import (
    CredentialsUnusable,
    DeliveryPolicy,
    FlexCharge,
    credentials_of,
    reveal,
    with_token,
)
from portal.services.flexcharge_payloads import evaluate_body, transmit_body
from portal.services.persistence import get_or_not_found

logger = logging.getLogger(__name__)

#: Enqueue a delivery, now or after a delay in seconds.
Schedule = Callable[..., None]
#: Rows the periodic task handles per run; the next run takes the rest.
SWEEP_BATCH = 1000


def backoff_delay(attempt: int, policy: DeliveryPolicy, rng: random.Random | None = None) -> float:
    """Return the wait before the next attempt: doubling from the base, capped, with jitter.

    "Equal jitter": half the exponential delay plus a random part of the other half, so
    retries of many rows that failed together spread out and never come sooner than half.
    """
    rng = rng or random.Random()  # noqa: S311 (spreading retries, not a secret)
    exponential = min(policy.backoff_max_seconds, policy.backoff_seconds * 2 ** max(0, attempt - 1))
    return exponential / 2 + rng.uniform(0, exponential / 2)


def claim(delivery_id: int, policy: DeliveryPolicy, now: datetime | None = None) -> str | None:
    """Take a due pending row for this worker; return the claim token, or None if taken."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    # One conditional UPDATE: of two workers racing for the row, exactly one matches it.
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.state == DeliveryState.PENDING.value,
            Delivery.next_attempt_at <= now,
        )
        .values(
            state=DeliveryState.IN_PROGRESS.value,
            claim_token=token,
            claimed_until=now + timedelta(seconds=policy.lease_seconds),
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None


def _call(fc: FlexCharge, delivery: Delivery) -> tuple[int, Callable[[str], object]]:
    """Return the credentials' id and the call that performs the delivery."""
    transaction = delivery.transaction
    environment = delivery.environment
    credentials = credentials_of(transaction.customer_id, environment)
    if credentials is None:
        raise CredentialsUnusable(
            f"The merchant has no {environment.capitalize()} credentials any more."
        )
    if delivery.kind == DeliveryKind.TRANSMIT.value:
        body = transmit_body(transaction, credentials)
        return credentials.id, lambda token: fc.client.transmit(environment, token, body)
    payment_token = reveal(fc.box, transaction.payment_token_encrypted, "payment token")
    if not payment_token:
        raise CredentialsUnusable("The decline's payment token is missing.")
    body = evaluate_body(transaction, credentials, payment_token)
    return credentials.id, lambda token: fc.client.evaluate(environment, token, body)


def deliver(
    fc: FlexCharge, delivery_id: int, schedule: Schedule, now: datetime | None = None
) -> str:
    """Perform one delivery if it is due and free; return what happened (for logs, tests)."""
    policy = fc.policy
    token = claim(delivery_id, policy, now)
    if token is None:
        return "skipped"
    delivery = db.session.get(Delivery, delivery_id)
    try:
        credentials_id, call = _call(fc, delivery)
    except CredentialsUnusable as error:
        _fail(delivery_id, token, error.message)
        return "failed"
    attempts = delivery.attempts
    db.session.commit()  # no transaction stays open during the call
    try:
        result = with_token(fc, credentials_id, call)
    except CredentialsUnusable as error:
        _fail(delivery_id, token, error.message)
        return "failed"
    except FlexChargeError as error:
        if error.retryable and attempts < policy.max_attempts:
            delay = backoff_delay(attempts, policy)
            _retry_later(delivery_id, token, error.message, delay)
            schedule(delivery_id, delay=delay)
            return "retry"
        _fail(delivery_id, token, error.message)
        return "failed"
    return "delivered" if _succeed(delivery_id, token, result) else "lost claim"


def _release(delivery_id: int, token: str, **values) -> bool:
    """Update the row only while this worker's claim holds; return whether it did."""
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.claim_token == token)
        .values(claim_token=None, claimed_until=None, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        logger.warning(
            "delivery %s: the claim expired before the outcome was recorded", delivery_id
        )
        return False
    return True


def _succeed(delivery_id: int, token: str, result: object) -> bool:
    """Record a delivered call on the row and its transaction."""
    if not _release(
        delivery_id,
        token,
        state=DeliveryState.DELIVERED.value,
        delivered_at=utcnow(),
        last_error=None,
    ):
        return False
    delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
    transaction = delivery.transaction
    if delivery.kind == DeliveryKind.TRANSMIT.value:
        transaction.transmit_state = TransmitState.SENT.value
        transaction.transmit_id = result  # type: ignore[assignment]
    else:
        transaction.evaluate_state = EvaluateState.ANSWERED.value
        transaction.evaluate_status = result.status  # type: ignore[attr-defined]
        transaction.order_session_key = result.order_session_key  # type: ignore[attr-defined]
        transaction.evaluate_reason = None
    db.session.commit()
    return True


def _retry_later(delivery_id: int, token: str, error: str, delay: float) -> None:
    """Put the row back as pending, due after the backoff delay."""
    if _release(
        delivery_id,
        token,
        state=DeliveryState.PENDING.value,
        last_error=error[:500],
        next_attempt_at=utcnow() + timedelta(seconds=delay),
    ):
        db.session.commit()


def _fail(delivery_id: int, token: str, error: str) -> None:
    """Give the row up: "failed" with the error, shown with a Retry now button."""
    if not _release(delivery_id, token, state=DeliveryState.FAILED.value, last_error=error[:500]):
        return
    delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
    transaction = delivery.transaction
    if delivery.kind == DeliveryKind.TRANSMIT.value:
        transaction.transmit_state = TransmitState.FAILED.value
    else:
        transaction.evaluate_state = EvaluateState.FAILED.value
        transaction.evaluate_reason = error[:255]
    db.session.commit()


def requeue_stale(policy: DeliveryPolicy, schedule: Schedule, now: datetime | None = None) -> int:
    """Enqueue rows pending too long and free the claims of crashed workers; return how many.

    A row is pending too long when it was due more than ``stale_seconds`` ago (its enqueue was
    lost: a crash after the commit, a queue flushed). A claim that outlived its lease belongs
    to a worker that died mid-delivery. Each row found is due again now and enqueued; a row
    enqueued twice is still delivered once (the claim).
    """
    now = now or utcnow()
    stale_before = now - timedelta(seconds=policy.stale_seconds)
    pending = Delivery.state == DeliveryState.PENDING.value
    abandoned = and_(
        Delivery.state == DeliveryState.IN_PROGRESS.value, Delivery.claimed_until < now
    )
    ids = list(
        db.session.scalars(
            select(Delivery.id)
            .where(or_(and_(pending, Delivery.next_attempt_at < stale_before), abandoned))
            .order_by(Delivery.next_attempt_at)
            .limit(SWEEP_BATCH)
        )
    )
    found = []
    for delivery_id in ids:
        # Conditional again: a worker may have claimed or finished the row meanwhile.
        result = db.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                or_(and_(pending, Delivery.next_attempt_at < stale_before), abandoned),
            )
            .values(
                state=DeliveryState.PENDING.value,
                claim_token=None,
                claimed_until=None,
                next_attempt_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            found.append(delivery_id)
    db.session.commit()
    for delivery_id in found:
        schedule(delivery_id)
    if found:
        logger.info("re-enqueued %d delivery row(s) left pending or abandoned", len(found))
    return len(found)


def backlog() -> dict[str, int]:
    """Count deliveries not yet delivered, by state (every state named, zero included)."""
    waiting = [
        DeliveryState.PENDING.value,
        DeliveryState.IN_PROGRESS.value,
        DeliveryState.FAILED.value,
    ]
    # Served by the (state, next_attempt_at) index; delivered rows are never counted.
    rows = db.session.execute(
        select(Delivery.state, func.count())
        .where(Delivery.state.in_(waiting))
        .group_by(Delivery.state)
    ).all()
    counts = dict.fromkeys(waiting, 0)
    counts.update({state: count for state, count in rows})
    return counts


def failed_deliveries(customer_id: int | None = None, limit: int = 50) -> list[Delivery]:
    """Return failed deliveries, newest first, of one merchant or of all."""
    query = (
        select(Delivery)
        .join(Transaction)
        .where(Delivery.state == DeliveryState.FAILED.value)
        .order_by(Delivery.updated_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if customer_id is not None:
        query = query.where(Transaction.customer_id == customer_id)
    return list(db.session.scalars(query))


def get_delivery(delivery_id: int) -> Delivery:
    """Return the delivery or NotFound."""
    return get_or_not_found(Delivery, delivery_id, "That delivery does not exist.")


def retry_now(actor: Actor, delivery: Delivery, schedule: Schedule) -> None:
    """Give a failed delivery a new round of attempts, starting now."""
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.state == DeliveryState.FAILED.value)
        .values(
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=utcnow(),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict("This delivery is not failed any more; reload the page.")
    transaction = delivery.transaction
    if delivery.kind == DeliveryKind.TRANSMIT.value:
        transaction.transmit_state = TransmitState.PENDING.value
    else:
        transaction.evaluate_state = EvaluateState.QUEUED.value
    audit.record(
        actor,
        "flexcharge.delivery.retry",
        delivery,
        object_type="Delivery",
        object_label=f"{delivery.kind} of order {transaction.order_id}",
        changes={"kind": delivery.kind, "last_error": delivery.last_error},
    )
    db.session.commit()
    schedule(delivery.id)
