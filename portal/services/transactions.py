"""Transactions: record a merchant's processed payment and route it to FlexCharge.

The portal (issue 11, seed 001):

1. resolves the profile from initiator and channel, and the site from siteUrl (else the
   descriptor);
2. when the merchant, the profile or the site is off, records the transaction as not sent,
   with the reason;
3. otherwise writes the transaction and its transmit delivery (the outbox row) in one database
   transaction; a background job sends it to /transmit;
4. on a decline, tokenizes the card during the request (the number and CVV live only in memory
   for that call), then calls /evaluate and answers with FlexCharge's status; when evaluate
   cannot answer in time the evaluate is queued with the token.

Routing is by the profile and the API key's environment: a Sandbox key's transactions go to the
FlexCharge Sandbox whatever the profile says (never to production); a Production key's go to
production when the profile is in Production and are not sent when it is in Sandbox (live card
data never goes to a sandbox). These two rules are the portal's, not FlexCharge's.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.clients.flexcharge import Card, FlexChargeError
from portal.extensions import db
from portal.models import (
    Customer,
    Delivery,
    DeliveryKind,
    EvaluateState,
    FlexChargeCredentials,
    FlexChargeSettings,
    FlexChargeSite,
    Profile,
    ProfileMode,
    Transaction,
    TransmitState,
)
from portal.models.base import utcnow
from portal.schemas.flexcharge import site_host
from portal.schemas.transactions import TransactionInput
from portal.services.errors import NotFound
from portal.services.flexcharge_access import (
    CredentialsUnusable,
    FlexCharge,
    credentials_of,
    reveal,
    with_token,
)
from portal.services.flexcharge_payloads import evaluate_body

logger = logging.getLogger(__name__)

Enqueue = Callable[[int], None]


class UnknownMerchant(NotFound):
    """No merchant with that id is visible to the API key's company."""

    field = "merchant"


class UnknownSite(NotFound):
    """The merchant has no site with that URL or descriptor."""


#: Why a transaction was not sent, by the code stored with it.
NOT_SENT_REASONS = {
    "merchant_off": "FlexCharge is not enabled for this merchant.",
    "profile_off": "The profile “{profile}” is Off.",
    "site_off": "The site {site} is switched off.",
    "live_key_sandbox_profile": (
        "The profile “{profile}” is in Sandbox: transactions sent with a Production API key "
        "are not sent."
    ),
    "no_sandbox_credentials": "The merchant has no Sandbox credentials.",
    "no_production_credentials": "The merchant has no Production credentials.",
}


def not_sent_reason(code: str | None, profile: str, site: str | None) -> str | None:
    """Return the sentence that explains a not-sent reason code."""
    if code is None:
        return None
    template = NOT_SENT_REASONS.get(code, code)
    return template.format(profile=Profile(profile).label, site=site or "")


@dataclass(frozen=True)
class Route:
    """Where a transaction goes: a FlexCharge environment, or nowhere and why."""

    environment: str | None
    reason: str | None = None


@dataclass(frozen=True)
class Recorded:
    """A recorded transaction and the answer the API gives (the first one, on a repeat)."""

    transaction: Transaction
    answer: dict[str, Any]
    created: bool


def profile_of(initiator: str, channel: str | None) -> Profile:
    """Return the profile of a transaction: MIT, or CIT by channel."""
    if initiator == "MIT":
        return Profile.MIT
    return Profile.CIT_CALL_CENTER if channel == "call_center" else Profile.CIT_WEBSITE


def merchant_for(company_id: int, public_id: str) -> Customer:
    """Return the merchant an API key of the company may send for, or UnknownMerchant."""
    customer = db.session.scalar(
        select(Customer).where(Customer.public_id == public_id, Customer.company_id == company_id)
    )
    if customer is None:
        raise UnknownMerchant("No merchant with this id exists for this API key's company.")
    return customer


def resolve_site(customer: Customer, site_url: str | None, descriptor: str | None):
    """Return the merchant's site named by the URL's host, else by the descriptor."""
    if site_url:
        host = site_host(site_url) or site_host("https://" + site_url)
        site = db.session.scalar(
            select(FlexChargeSite).where(
                FlexChargeSite.customer_id == customer.id, FlexChargeSite.host == (host or "")
            )
        )
        if site is None:
            raise UnknownSite(
                f"The merchant has no site {host or site_url}; add it on its FlexCharge tab.",
                field="site_url",
            )
        return site
    site = db.session.scalar(
        select(FlexChargeSite).where(
            FlexChargeSite.customer_id == customer.id,
            FlexChargeSite.descriptor_key == " ".join((descriptor or "").split()).casefold(),
        )
    )
    if site is None:
        raise UnknownSite(
            "The merchant has no site with this descriptor; add it on its FlexCharge tab.",
            field="descriptor",
        )
    return site


def route(
    settings: FlexChargeSettings | None,
    profile: Profile,
    site: FlexChargeSite,
    key_environment: str,
    environments_with_credentials: set[str],
) -> Route:
    """Decide where a transaction goes, or why it is not sent."""
    if settings is None or not settings.enabled:
        return Route(None, "merchant_off")
    mode = settings.mode(profile)
    if mode is ProfileMode.OFF:
        return Route(None, "profile_off")
    if not site.enabled:
        return Route(None, "site_off")
    if mode is ProfileMode.SANDBOX and key_environment == "production":
        return Route(None, "live_key_sandbox_profile")
    # A Sandbox API key never reaches production, whatever the profile says.
    environment = "sandbox" if key_environment == "sandbox" else mode.value
    if environment not in environments_with_credentials:
        return Route(None, f"no_{environment}_credentials")
    return Route(environment)


def find_transaction(customer_id: int, order_id: str, external_id: str) -> Transaction | None:
    """Return the transaction a client sent before with these ids, if any."""
    return db.session.scalar(
        select(Transaction).where(
            Transaction.customer_id == customer_id,
            Transaction.order_id == order_id,
            Transaction.external_id == external_id,
        )
    )


def answer_of(transaction: Transaction) -> dict[str, Any]:
    """Return the API's answer about a transaction, as it stands."""
    transmit_delivery = next(
        (d for d in transaction.deliveries if d.kind == DeliveryKind.TRANSMIT.value), None
    )
    if transaction.transmit_state == TransmitState.NOT_SENT.value:
        site = transaction.site.url if transaction.site else transaction.site_url
        reason = not_sent_reason(transaction.transmit_reason, transaction.profile, site)
    elif transaction.transmit_state == TransmitState.FAILED.value and transmit_delivery:
        reason = transmit_delivery.last_error
    else:
        reason = None
    evaluate = None
    if transaction.evaluate_state is not None:
        evaluate = {
            "state": transaction.evaluate_state,
            "status": transaction.evaluate_status,
            "orderSessionKey": transaction.order_session_key,
            "reason": transaction.evaluate_reason,
        }
    return {
        "id": transaction.id,
        "merchant": transaction.customer.public_id,
        "orderId": transaction.order_id,
        "transactionId": transaction.external_id,
        "flexcharge": {
            "environment": transaction.environment,
            "transmit": {
                "state": transaction.transmit_state,
                "reason": reason,
                "transmitId": transaction.transmit_id,
            },
            "evaluate": evaluate,
            "orderStatus": transaction.order_status,
        },
    }


def _card_of(data: TransactionInput) -> Card | None:
    """Return the decline's card for /tokenize (in memory only), or None."""
    card = data.card
    if data.transaction.status != "declined" or card.number is None:
        return None
    holder = (card.holder_name or "").split()
    billing = data.billing
    first = holder[0] if holder else (billing.first_name if billing else None)
    last = " ".join(holder[1:]) if len(holder) > 1 else (billing.last_name if billing else None)
    return Card(
        number=card.number.get_secret_value(),
        cvv=card.cvv.get_secret_value() if card.cvv else None,
        month=card.exp_month,
        year=card.exp_year,
        first_name=first or "Card",
        last_name=last or "Holder",
    )


def _new_transaction(
    customer: Customer,
    data: TransactionInput,
    key_environment: str,
    profile: Profile,
    site: FlexChargeSite,
    decision: Route,
) -> Transaction:
    """Build the transaction row (never the card number or the CVV)."""
    details, card = data.transaction, data.card
    declined = details.status == "declined"
    transaction = Transaction(
        customer_id=customer.id,
        key_environment=key_environment,
        order_id=data.order_id,
        external_id=details.id,
        amount=details.amount,
        currency=details.currency,
        status=details.status,
        response_code=details.response_code,
        response_description=details.response_description,
        processor_name=details.processor_name,
        occurred_at=details.timestamp_utc,
        occurred_on=details.timestamp_utc.date(),
        initiator=data.initiator,
        channel=data.channel if data.initiator == "CIT" else None,
        profile=profile.value,
        site_id=site.id,
        site_url=data.site_url,
        descriptor=data.descriptor or site.descriptor,
        customer_ip=data.customer_ip,
        payer=data.payer.model_dump(),
        billing=data.billing.model_dump(exclude_none=True) if data.billing else None,
        card_brand=card.brand,
        card_bin=card.bin,
        card_last4=card.last4,
        card_exp_month=card.exp_month,
        card_exp_year=card.exp_year,
        card_holder=card.holder_name,
        environment=decision.environment,
        transmit_state=(
            TransmitState.PENDING.value if decision.environment else TransmitState.NOT_SENT.value
        ),
        transmit_reason=decision.reason,
    )
    if declined and decision.environment is None:
        transaction.evaluate_state = EvaluateState.NOT_SENT.value
        transaction.evaluate_reason = not_sent_reason(decision.reason, profile.value, site.url)
    if declined and decision.environment:
        transaction.idempotency_key = str(uuid.uuid4())
    if decision.environment:
        transaction.deliveries.append(
            Delivery(kind=DeliveryKind.TRANSMIT.value, environment=decision.environment)
        )
    return transaction


def record_transaction(
    company_id: int,
    key_environment: str,
    data: TransactionInput,
    fc: FlexCharge,
    enqueue: Enqueue,
) -> Recorded:
    """Record a processed payment, queue its transmit, and evaluate it when declined."""
    customer = merchant_for(company_id, data.merchant)
    earlier = find_transaction(customer.id, data.order_id, data.transaction.id)
    if earlier is not None:
        return Recorded(earlier, earlier.answer or answer_of(earlier), created=False)
    site = resolve_site(customer, data.site_url, data.descriptor)
    profile = profile_of(data.initiator, data.channel)
    settings = db.session.get(FlexChargeSettings, customer.id)
    with_credentials = set(
        db.session.scalars(
            select(FlexChargeCredentials.environment).where(
                FlexChargeCredentials.customer_id == customer.id
            )
        )
    )
    decision = route(settings, profile, site, key_environment, with_credentials)
    transaction = _new_transaction(customer, data, key_environment, profile, site, decision)
    db.session.add(transaction)
    try:
        db.session.flush()
    except IntegrityError:
        # The same ids sent twice at once: the unique constraint lets one in.
        db.session.rollback()
        earlier = find_transaction(customer.id, data.order_id, data.transaction.id)
        if earlier is None:
            raise
        return Recorded(earlier, earlier.answer or answer_of(earlier), created=False)
    transaction.answer = answer_of(transaction)
    db.session.commit()
    for delivery in transaction.deliveries:
        _enqueue(enqueue, delivery.id)
    card = _card_of(data)
    if card is not None and decision.environment:
        _evaluate_decline(fc, transaction, card, enqueue)
    return Recorded(transaction, transaction.answer, created=True)


def _enqueue(enqueue: Enqueue, delivery_id: int) -> None:
    """Hand a delivery to the job queue; if that fails, the periodic task will."""
    try:
        enqueue(delivery_id)
    except Exception:
        logger.exception("delivery %s could not be enqueued; it will be re-enqueued", delivery_id)


def _evaluate_decline(
    fc: FlexCharge, transaction: Transaction, card: Card, enqueue: Enqueue
) -> None:
    """Tokenize the card, then ask FlexCharge to evaluate the decline; queue it if it is late."""
    environment = transaction.environment or ""
    credentials = credentials_of(transaction.customer_id, environment)
    transaction_id = transaction.id
    try:
        if credentials is None:
            raise CredentialsUnusable("The merchant's FlexCharge credentials were removed.")
        mid, credentials_id = credentials.mid, credentials.id
        tokenization_key = reveal(
            fc.box, credentials.tokenization_key_encrypted, "Tokenization key"
        )
        payment_token = with_token(
            fc,
            credentials_id,
            lambda token: fc.client.tokenize(environment, token, mid, tokenization_key, card),
        )
    except (FlexChargeError, CredentialsUnusable) as error:
        _finish_evaluate(
            transaction_id,
            EvaluateState.FAILED,
            reason=f"The card could not be tokenized, so the decline was not evaluated: "
            f"{error.message}",
        )
        return
    # From here on only the token is used: the card's number and CVV went no further than
    # the /tokenize call, and nothing above stored, queued or logged them.
    transaction = db.session.get(Transaction, transaction_id)
    transaction.payment_token_encrypted = fc.box.encrypt(payment_token)
    credentials = db.session.get(FlexChargeCredentials, credentials_id)
    body = evaluate_body(transaction, credentials, payment_token)
    db.session.commit()
    try:
        evaluation = with_token(
            fc, credentials_id, lambda token: fc.client.evaluate(environment, token, body)
        )
    except (FlexChargeError, CredentialsUnusable) as error:
        if isinstance(error, FlexChargeError) and error.retryable:
            _enqueue(enqueue, _queue_evaluate(transaction_id, environment, error.message))
        else:
            _finish_evaluate(transaction_id, EvaluateState.FAILED, reason=error.message)
        return
    _finish_evaluate(
        transaction_id,
        EvaluateState.ANSWERED,
        status=evaluation.status,
        order_session_key=evaluation.order_session_key,
    )


def _queue_evaluate(transaction_id: int, environment: str, reason: str) -> int:
    """Write the evaluate's delivery (it reuses the token and the idempotency key)."""
    transaction = db.session.get(Transaction, transaction_id)
    delivery = Delivery(
        kind=DeliveryKind.EVALUATE.value,
        environment=environment,
        attempts=1,
        last_error=reason[:500],
        next_attempt_at=utcnow(),
    )
    transaction.deliveries.append(delivery)
    transaction.evaluate_state = EvaluateState.QUEUED.value
    transaction.evaluate_reason = (
        f"FlexCharge did not answer in time; the evaluate is queued ({reason})."
    )[:255]
    transaction.answer = answer_of(transaction)
    db.session.commit()
    return delivery.id


def _finish_evaluate(
    transaction_id: int,
    state: EvaluateState,
    *,
    status: str | None = None,
    order_session_key: str | None = None,
    reason: str | None = None,
) -> None:
    """Record how the decline's evaluation ended, and the answer the client gets."""
    transaction = db.session.get(Transaction, transaction_id)
    transaction.evaluate_state = state.value
    transaction.evaluate_status = status
    transaction.order_session_key = order_session_key
    transaction.evaluate_reason = reason[:255] if reason else None
    transaction.answer = answer_of(transaction)
    db.session.commit()


def get_for_company(company_id: int, transaction_id: int) -> Transaction | None:
    """Return a transaction of one of the company's merchants, or None."""
    return db.session.scalar(
        select(Transaction)
        .join(Customer)
        .where(Transaction.id == transaction_id, Customer.company_id == company_id)
    )
