"""FlexCharge's webhooks: order events that update a transaction's FlexCharge status.

The body arrives as text (not ``application/json``) and is parsed only once its signature,
made with the merchant's webhook signing key, is verified (``core.webhook_signatures``). A bad
signature or a date outside five minutes is refused and audited. A resent event (same event
and order) is recorded once: the second one is "already applied".
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.core import webhook_signatures
from portal.core.crypto import SecretBox, SecretDecryptError
from portal.core.public_ids import CUSTOMER_PREFIX, is_public_id
from portal.extensions import db
from portal.models import Customer, FlexChargeCredentials, Transaction, WebhookEvent
from portal.models.base import utcnow
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import DomainError

#: Order events and the status they give the transaction (reference A.7).
ORDER_EVENTS = {
    "order.completed": "completed",
    "order.cancelled": "cancelled",
    "order.expired": "expired",
    "order.refunded": "refunded",
    "order.capturerequired": "capturerequired",
    "payment.chargeback.received": "chargeback",
}
MAX_BODY = 64 * 1024


class WebhookRefused(DomainError):
    """A webhook whose signature, date or merchant is not right (answered 401)."""


class WebhookInvalid(DomainError):
    """A signed webhook whose body is not the JSON FlexCharge sends (answered 400)."""


@dataclass(frozen=True)
class Applied:
    """What a webhook did: the event, and whether it changed a transaction."""

    event: str
    applied: bool
    detail: str
    transaction_id: int | None = None


def _keys(customer: Customer, box: SecretBox) -> list[str]:
    """Return the merchant's webhook signing keys (one per environment that has one)."""
    rows = db.session.scalars(
        select(FlexChargeCredentials).where(
            FlexChargeCredentials.customer_id == customer.id,
            FlexChargeCredentials.webhook_key_encrypted.is_not(None),
        )
    )
    keys = []
    for row in rows:
        try:
            keys.append(box.decrypt(row.webhook_key_encrypted))
        except SecretDecryptError:
            continue  # fails closed: a key that cannot be read verifies nothing
    return keys


def _refuse(actor: Actor, customer: Customer | None, public_id: str, reason: str) -> WebhookRefused:
    """Audit a refused webhook and return the error to raise (one message for every reason)."""
    audit.record_alone(
        actor,
        "flexcharge.webhook",
        customer,
        object_type="FlexCharge",
        object_id=public_id[:64],
        outcome="failure",
        changes={"reason": reason},
    )
    return WebhookRefused("The webhook's signature is not valid for this merchant.")


def receive(
    actor: Actor,
    public_id: str,
    body: bytes,
    headers: Mapping[str, str],
    host: str,
    box: SecretBox,
    now: datetime | None = None,
) -> Applied:
    """Verify a webhook, then apply its order event to the transaction it names."""
    customer = None
    if is_public_id(public_id, CUSTOMER_PREFIX):
        customer = db.session.scalar(select(Customer).where(Customer.public_id == public_id))
    if customer is None:
        # Only a well-formed id is recorded: anything may arrive in the URL (NUL bytes too).
        shown = public_id if is_public_id(public_id, CUSTOMER_PREFIX) else "(not a merchant id)"
        raise _refuse(actor, None, shown, "unknown merchant")
    verdict, _ = webhook_signatures.verify(_keys(customer, box), headers, body, host, now)
    if verdict is not webhook_signatures.Verdict.VALID:
        reasons = {
            webhook_signatures.Verdict.MISSING: "signature headers missing",
            webhook_signatures.Verdict.BAD_SIGNATURE: "bad signature",
            webhook_signatures.Verdict.STALE: "date outside five minutes",
        }
        raise _refuse(actor, customer, public_id, reasons[verdict])
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise WebhookInvalid("The webhook's body is not JSON.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("Event"), str):
        raise WebhookInvalid("The webhook names no Event.")
    event = payload["Event"][:64]
    status = ORDER_EVENTS.get(event)
    order_id = str(payload.get("OrderId") or "")[:100]
    external_id = str(payload.get("ExternalOrderId") or "")[:100]
    if any(_has_control_characters(text) for text in (event, order_id, external_id)):
        raise WebhookInvalid("The webhook's ids contain control characters.")
    if status is None:
        return Applied(event, False, "Not an order event; nothing to update.")
    if not order_id:
        raise WebhookInvalid("The order event names no OrderId.")
    transaction = _transaction_of(customer, order_id, external_id)
    db.session.add(
        WebhookEvent(
            customer_id=customer.id,
            event=event,
            order_id=order_id,
            transaction_id=transaction.id if transaction else None,
        )
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return Applied(event, False, "Already applied (a resent event).")
    if transaction is None:
        db.session.commit()
        return Applied(event, False, "No transaction of this merchant has this order.")
    previous = transaction.order_status
    transaction.order_status = status
    transaction.order_status_at = utcnow()
    audit.record(
        actor,
        "flexcharge.webhook",
        transaction,
        object_type="Transaction",
        object_id=transaction.id,
        object_label=f"order {transaction.order_id}",
        changes={"event": event, "order_status": [previous, status]},
    )
    db.session.commit()
    return Applied(event, True, f"Order status is now {status}.", transaction.id)


def _has_control_characters(text: str) -> bool:
    """Tell whether text holds control characters (a NUL byte cannot even be stored)."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def _transaction_of(customer: Customer, order_id: str, external_order_id: str):
    """Find the transaction by FlexCharge's order id, else by the merchant's own order id."""
    found = db.session.scalar(
        select(Transaction).where(
            Transaction.customer_id == customer.id, Transaction.order_session_key == order_id
        )
    )
    if found is None and external_order_id:
        found = db.session.scalar(
            select(Transaction)
            .where(
                Transaction.customer_id == customer.id,
                Transaction.order_id == external_order_id[:100],
            )
            .order_by(Transaction.id.desc())
            .limit(1)
        )
    return found
