"""FlexCharge's webhooks: signatures (valid, tampered, stale, resent) and order statuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Transaction
from tests import factories
from tests.support.fake_flexcharge import sign_webhook
from tests.support.flexcharge import (
    WEBHOOK_KEY,
    app_on_fake_flexcharge,  # noqa: F401 (a fixture)
    bearer,
    declined_body,
    fake_flexcharge,  # noqa: F401 (a fixture)
    onboard,
)

# Also run against PostgreSQL and Redis (the job store) in `make test-services`.
pytestmark = pytest.mark.services

HOST = "localhost"


@pytest.fixture
def order(app: Flask, client: FlaskClient) -> dict[str, str]:
    """Send an evaluated decline of an onboarded merchant; return its ids."""
    with app.app_context():
        merchant = onboard().public_id
        key = factories.make_api_key("CRM", "sandbox").plaintext
    body = declined_body(merchant)
    answer = client.post("/api/v1/transactions", json=body, headers=bearer(key)).get_json()
    evaluate = answer["transaction"]["flexcharge"]["evaluate"]
    return {
        "merchant": merchant,
        "orderId": body["orderId"],
        "orderSessionKey": evaluate["orderSessionKey"],
        "transaction": answer["transaction"]["id"],
    }


def event_body(order: dict[str, str], event: str = "order.completed", **fields) -> bytes:
    """Return a webhook body as FlexCharge sends it (reference A.7)."""
    payload = {
        "Event": event,
        "TimeStamp": "2026-05-01T12:40:00.000000Z",
        "EventData": None,
        "ExternalOrderId": order["orderId"],
        "OrderId": order["orderSessionKey"],
        "ConfirmationId": "22ACD1D9",
        "IsTestMode": True,
        "IsResent": False,
        **fields,
    }
    return json.dumps(payload).encode()


def deliver(client: FlaskClient, merchant: str, body: bytes, headers: dict[str, str]):
    """POST a webhook as text, with its headers."""
    return client.post(
        f"/api/flexcharge/webhooks/{merchant}",
        data=body,
        headers={**headers, "Host": HOST},
        content_type="text/plain",
    )


def order_status(app: Flask, transaction_id: int) -> str | None:
    """Return the FlexCharge order status of a transaction."""
    with app.app_context():
        return db.session.get(Transaction, transaction_id).order_status


def refusals(app: Flask) -> list[dict]:
    """Return the changes of every refused webhook's audit event."""
    with app.app_context():
        query = select(AuditEvent).where(
            AuditEvent.action == "flexcharge.webhook", AuditEvent.outcome == "failure"
        )
        return [event.changes for event in db.session.scalars(query)]


def test_a_signed_order_event_updates_the_transaction(app, client, order) -> None:
    body = event_body(order)
    response = deliver(client, order["merchant"], body, sign_webhook(WEBHOOK_KEY, body, HOST))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "success": True,
        "event": "order.completed",
        "applied": True,
        "detail": "Order status is now completed.",
    }
    assert order_status(app, order["transaction"]) == "completed"
    for event, status in (
        ("order.refunded", "refunded"),
        ("payment.chargeback.received", "chargeback"),
    ):
        body = event_body(order, event)
        deliver(client, order["merchant"], body, sign_webhook(WEBHOOK_KEY, body, HOST))
        assert order_status(app, order["transaction"]) == status


def test_a_resent_event_is_already_applied(app, client, order) -> None:
    body = event_body(order, "order.cancelled")
    deliver(client, order["merchant"], body, sign_webhook(WEBHOOK_KEY, body, HOST))
    resent = event_body(order, "order.cancelled", IsResent=True)
    response = deliver(client, order["merchant"], resent, sign_webhook(WEBHOOK_KEY, resent, HOST))
    assert response.status_code == 200
    assert response.get_json()["applied"] is False
    assert "Already applied" in response.get_json()["detail"]
    with app.app_context():
        applied = select(AuditEvent).where(
            AuditEvent.action == "flexcharge.webhook", AuditEvent.outcome == "success"
        )
        assert len(list(db.session.scalars(applied))) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda body, headers: (body.replace(b"completed", b"refunded"), headers), id="body"
        ),
        pytest.param(lambda body, headers: (body, {**headers, "x-fc-nonce": "0" * 32}), id="nonce"),
        pytest.param(
            lambda body, headers: (body, sign_webhook("d3Jvbmcta2V5", body, HOST)), id="wrong key"
        ),
        pytest.param(
            lambda body, headers: (body, sign_webhook(WEBHOOK_KEY, body, "evil.example")), id="host"
        ),
        pytest.param(
            lambda body, headers: (
                body,
                {k: v for k, v in headers.items() if k != "x-fc-authorization"},
            ),
            id="unsigned",
        ),
        pytest.param(
            lambda body, headers: (
                body,
                {
                    **headers,
                    "x-fc-authorization": headers["x-fc-authorization"].replace(
                        "HMAC-SHA512", "HMAC-SHA256"
                    ),
                },
            ),
            id="scheme",
        ),
    ],
)
def test_a_tampered_webhook_is_refused_and_audited(app, client, order, tamper) -> None:
    body = event_body(order)
    body, headers = tamper(body, sign_webhook(WEBHOOK_KEY, body, HOST))
    response = deliver(client, order["merchant"], body, headers)
    assert response.status_code == 401
    assert response.get_json()["errorCode"] == 1000
    assert order_status(app, order["transaction"]) is None
    assert len(refusals(app)) == 1


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_date_outside_five_minutes_is_refused(app, client, order, minutes) -> None:
    body = event_body(order)
    date = format_datetime(datetime.now(UTC) + timedelta(minutes=minutes), usegmt=True)
    response = deliver(
        client, order["merchant"], body, sign_webhook(WEBHOOK_KEY, body, HOST, date=date)
    )
    assert response.status_code == 401
    assert refusals(app) == [{"reason": "date outside five minutes"}]
    assert order_status(app, order["transaction"]) is None


def test_a_date_within_five_minutes_is_accepted(app, client, order) -> None:
    body = event_body(order)
    date = format_datetime(datetime.now(UTC) - timedelta(minutes=4), usegmt=True)
    response = deliver(
        client, order["merchant"], body, sign_webhook(WEBHOOK_KEY, body, HOST, date=date)
    )
    assert response.status_code == 200


def test_another_merchant_and_an_unknown_one_get_the_same_401(app, client, order) -> None:
    with app.app_context():
        other = onboard(factories.make_customer("Other")).public_id
    body = event_body(order)
    signed = sign_webhook(WEBHOOK_KEY, body, HOST)
    # The other merchant has the same test key, but its transactions are not this order's.
    elsewhere = deliver(client, other, body, signed)
    assert elsewhere.status_code == 200 and elsewhere.get_json()["applied"] is False
    unknown = deliver(client, "ME-0000-0000-0000-0000-0000-0000", body, signed)
    nonsense = deliver(client, "not-an-id%00", body, signed)
    assert unknown.status_code == nonsense.status_code == 401
    # The same answer but for the id of each request (quoted to support).
    assert without_request_id(unknown.get_json()) == without_request_id(nonsense.get_json())


def test_signed_bodies_that_are_not_order_events(app, client, order) -> None:
    for body, status in (
        (b"not json", 400),
        (b"[]", 400),
        (json.dumps({"Event": "payout.created"}).encode(), 200),
    ):
        response = deliver(client, order["merchant"], body, sign_webhook(WEBHOOK_KEY, body, HOST))
        assert response.status_code == status, body
    nul = event_body(order, OrderId="ab\u0000cd")
    assert (
        deliver(client, order["merchant"], nul, sign_webhook(WEBHOOK_KEY, nul, HOST)).status_code
        == 400
    )
    huge = b"x" * (70 * 1024)
    assert (
        deliver(client, order["merchant"], huge, sign_webhook(WEBHOOK_KEY, huge, HOST)).status_code
        == 413
    )


def without_request_id(body: dict) -> dict:
    """Return an error body without its per-request id."""
    return {key: value for key, value in body.items() if key != "requestId"}
