"""POST /api/v1/transactions against a FlexCharge-like server: routing, evaluate, errors."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Delivery, Transaction
from portal.schemas.flexcharge import ProfilesInput
from portal.services import customers
from portal.services import flexcharge_merchants as merchants
from tests import factories
from tests.support.concurrency import run_concurrently
from tests.support.fake_flexcharge import APPROVING_CARD
from tests.support.flexcharge import (
    SYSTEM,
    app_on_fake_flexcharge,  # noqa: F401 (a fixture)
    bearer,
    declined_body,
    fake_flexcharge,  # noqa: F401 (a fixture)
    onboard,
    run_jobs,
    site_of,
    transaction_body,
)

# Also run against PostgreSQL and Redis (the job store) in `make test-services`.
pytestmark = pytest.mark.services

URL = "/api/v1/transactions"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    """Onboard a merchant (MIT Production, CIT website Sandbox, CIT call center Off), two
    sites of which one is off, and make a Sandbox and a Production key of its company."""
    with app.app_context():
        merchant = onboard(
            sites=(
                ("https://shop.example.com", "SHOP EXAMPLE"),
                ("https://outlet.example.com", "OUTLET EXAMPLE"),
            )
        )
        merchants.set_site_enabled(SYSTEM, site_of(merchant, "https://outlet.example.com"), False)
        return {
            "merchant": merchant.public_id,
            "sandbox": factories.make_api_key("CRM test", "sandbox").plaintext,
            "production": factories.make_api_key("CRM live", "production").plaintext,
        }


def send(client: FlaskClient, key: str, body: dict):
    """Post a transaction with an API key."""
    return client.post(URL, json=body, headers=bearer(key))


def flexcharge_of(response) -> dict:
    """Return the "flexcharge" part of an accepted transaction's answer."""
    body = response.get_json()
    assert body["success"] is True, body
    return body["transaction"]["flexcharge"]


# ------------------------------------------------------------------------ the routing matrix


MATRIX = [
    # (id, key, body overrides, state, environment, reason fragment)
    ("cit-website-sandbox-key", "sandbox", {}, "pending", "sandbox", None),
    (
        "cit-website-production-key",
        "production",
        {},
        "not_sent",
        None,
        "“CIT - website” is in Sandbox",
    ),
    (
        "cit-call-center-off",
        "sandbox",
        {"channel": "call_center"},
        "not_sent",
        None,
        "“CIT - call center” is Off",
    ),
    (
        "mit-production-key",
        "production",
        {"initiator": "MIT", "channel": None, "customerIp": None},
        "pending",
        "production",
        None,
    ),
    (
        "mit-sandbox-key-never-production",
        "sandbox",
        {"initiator": "MIT", "channel": None},
        "pending",
        "sandbox",
        None,
    ),
    (
        "site-off",
        "sandbox",
        {"siteUrl": "https://outlet.example.com/cart"},
        "not_sent",
        None,
        "outlet.example.com is switched off",
    ),
    (
        "site-by-descriptor",
        "sandbox",
        {"siteUrl": None, "descriptor": "shop example"},
        "pending",
        "sandbox",
        None,
    ),
]


@pytest.mark.parametrize(
    ("key", "overrides", "state", "environment", "reason"),
    [case[1:] for case in MATRIX],
    ids=[case[0] for case in MATRIX],
)
def test_routing_by_profile_environment_site_and_key(
    app, client, fake, world, key, overrides, state, environment, reason
) -> None:
    response = send(client, world[key], transaction_body(world["merchant"], **overrides))
    assert response.status_code == 201, response.get_json()
    answer = flexcharge_of(response)
    assert answer["transmit"]["state"] == state
    assert answer["environment"] == environment
    if reason:
        assert reason in answer["transmit"]["reason"]
    else:
        assert answer["transmit"]["reason"] is None
    assert answer["evaluate"] is None  # approved: nothing to evaluate
    run_jobs(app)
    transmits = fake.calls("/transmit")
    if environment:
        assert [call.environment for call in transmits] == [environment]
        with app.app_context():
            row = db.session.scalar(select(Transaction))
            assert row.transmit_state == "sent" and row.transmit_id
    else:
        assert transmits == []


def test_a_merchant_without_flexcharge_or_credentials_records_why_it_was_not_sent(
    app, client, world
) -> None:
    with app.app_context():
        merchant = onboard(factories.make_customer("No prod"), environments=("sandbox",))
        public_id = merchant.public_id
    mit = {"initiator": "MIT", "channel": None}
    answer = flexcharge_of(send(client, world["production"], transaction_body(public_id, **mit)))
    assert answer["transmit"]["reason"] == "The merchant has no Production credentials."
    with app.app_context():
        merchants.set_enabled(SYSTEM, customers.get_customer(public_id), False)
    answer = flexcharge_of(send(client, world["sandbox"], transaction_body(public_id)))
    assert answer["transmit"] == {
        "state": "not_sent",
        "reason": "FlexCharge is not enabled for this merchant.",
        "transmitId": None,
    }


def test_the_transmit_carries_mid_descriptor_site_mit_and_the_call_center_channel(
    app, client, fake, world
) -> None:
    with app.app_context():
        customer = customers.get_customer(world["merchant"])
        merchants.set_profiles(
            SYSTEM,
            customer,
            ProfilesInput(cit_website="sandbox", cit_call_center="sandbox", mit="production"),
        )
    send(client, world["sandbox"], transaction_body(world["merchant"], channel="call_center"))
    send(
        client,
        world["production"],
        transaction_body(world["merchant"], initiator="MIT", channel=None),
    )
    run_jobs(app)
    call_center, mit = (call.body for call in fake.calls("/transmit"))
    assert call_center["mid"] == "0ba84f6e-1b2c-4d5e-8f90-123456789abc"
    assert call_center["orderSource"] == "call_center"
    assert call_center["isMIT"] is False and call_center["isDeclined"] is False
    assert call_center["siteUrl"] == "https://shop.example.com/checkout"
    assert call_center["transaction"]["dynamicDescriptor"] == "SHOP EXAMPLE"
    assert call_center["transaction"]["amount"] == 1999
    assert call_center["paymentMethod"] == {
        "holderName": "Cure Tester",
        "cardBrand": "VISA",
        "cardBinNumber": "411111",
        "cardLast4Digits": "1111",
        "expirationMonth": 12,
        "expirationYear": 2030,
    }
    assert mit["isMIT"] is True and mit["isRecurring"] is True and "orderSource" not in mit


# ------------------------------------------------------------------------- declines


def test_a_decline_is_tokenized_then_evaluated_during_the_request(app, client, fake, world) -> None:
    response = send(client, world["sandbox"], declined_body(world["merchant"]))
    assert response.status_code == 201
    answer = flexcharge_of(response)
    assert answer["evaluate"]["state"] == "answered"
    assert answer["evaluate"]["status"] == "CHALLENGE"  # CIT, 4111…, phone and CVV (A.12)
    assert answer["evaluate"]["orderSessionKey"]
    tokenize, evaluate = fake.calls("/tokenize"), fake.calls("/evaluate")
    assert len(tokenize) == 1 and len(evaluate) == 1
    assert tokenize[0].body["payment_method"]["credit_card"]["number"] == "…1111"
    body = evaluate[0].body
    assert body["isDeclined"] is True and body["mid"] == "0ba84f6e-1b2c-4d5e-8f90-123456789abc"
    assert GUID.match(body["idempotencyKey"])
    assert body["customerIp"] == "203.0.113.7"
    assert body["paymentMethod"]["cardNumber"] != "4111111111111111"
    assert body["paymentMethod"]["Token"] is True
    assert body["siteUrl"] == "https://shop.example.com/checkout"
    with app.app_context():
        row = db.session.scalar(select(Transaction))
        assert (row.card_brand, row.card_last4, row.evaluate_status) == (
            "VISA",
            "1111",
            "CHALLENGE",
        )
        assert row.transmit_state == "pending"


def test_a_mit_decline_is_evaluated_as_mit(app, client, fake, world) -> None:
    body = declined_body(
        world["merchant"], APPROVING_CARD, initiator="MIT", channel=None, customerIp=None
    )
    answer = flexcharge_of(send(client, world["production"], body))
    assert answer["environment"] == "production"
    assert answer["evaluate"]["status"] == "APPROVED"
    (evaluate,) = fake.calls("/evaluate", "production")
    assert evaluate.body["isMIT"] is True and evaluate.body["isRecurring"] is True
    assert "customerIp" not in evaluate.body


def test_a_slow_evaluate_is_queued_with_the_token_and_the_same_idempotency_key(
    app, client, fake, world
) -> None:
    fake.slow("/evaluate", 3)
    answer = flexcharge_of(send(client, world["sandbox"], declined_body(world["merchant"])))
    assert answer["evaluate"]["state"] == "queued"
    assert "did not answer in time" in answer["evaluate"]["reason"]
    fake.slow("/evaluate", 0)
    run_jobs(app)
    first, again = fake.calls("/evaluate")
    assert first.body["idempotencyKey"] == again.body["idempotencyKey"]
    assert len(fake.calls("/tokenize")) == 1  # the token is reused, the card is not needed
    with app.app_context():
        row = db.session.scalar(select(Transaction))
        assert row.evaluate_state == "answered" and row.evaluate_status == "CHALLENGE"
        assert row.order_session_key


def test_a_card_that_cannot_be_tokenized_is_a_recorded_failure_not_an_error(
    app, client, fake, world
) -> None:
    fake.fail("/tokenize", 503)
    response = send(client, world["sandbox"], declined_body(world["merchant"]))
    assert response.status_code == 201
    answer = flexcharge_of(response)
    assert answer["evaluate"]["state"] == "failed"
    assert "could not be tokenized" in answer["evaluate"]["reason"]
    assert "FlexCharge Sandbox answered 503" in answer["evaluate"]["reason"]
    assert answer["transmit"]["state"] == "pending"
    assert fake.calls("/evaluate") == []


def test_an_evaluate_flexcharge_refuses_is_failed_and_not_retried(app, client, fake, world) -> None:
    body = declined_body(world["merchant"], transaction={"amount": 25000})  # A.5: test amounts
    answer = flexcharge_of(send(client, world["sandbox"], body))
    assert answer["evaluate"]["state"] == "failed"
    assert "refused the request (400" in answer["evaluate"]["reason"]
    run_jobs(app)
    assert len(fake.calls("/evaluate")) == 1


# ----------------------------------------------------------------------- access tokens


def test_tokens_are_reused_and_fetched_again_after_a_401(app, client, fake, world) -> None:
    tokens_at_start = len(fake.calls("/oauth2/token"))
    for _ in range(3):
        send(client, world["sandbox"], transaction_body(world["merchant"]))
    send(client, world["sandbox"], declined_body(world["merchant"]))
    run_jobs(app)
    assert len(fake.calls("/transmit")) == 4
    assert len(fake.calls("/oauth2/token")) == tokens_at_start  # saved with the credentials
    fake.expire_tokens()
    send(client, world["sandbox"], transaction_body(world["merchant"]))
    send(client, world["sandbox"], transaction_body(world["merchant"]))
    run_jobs(app)
    transmits = fake.calls("/transmit")
    assert [call.status for call in transmits[4:]] == [401, 200, 200]
    assert len(fake.calls("/oauth2/token")) == tokens_at_start + 1


# ------------------------------------------------------------------------- idempotency


def test_repeating_a_transaction_returns_the_first_answer_and_creates_nothing(
    app, client, fake, world
) -> None:
    body = declined_body(world["merchant"])
    first = send(client, world["sandbox"], body)
    again = send(client, world["sandbox"], body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    assert len(fake.calls("/evaluate")) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Transaction)) == 1
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_concurrent_repeats_create_one_transaction(app, fake, world) -> None:
    body = transaction_body(world["merchant"])

    def post(_n: int):
        return app.test_client().post(URL, json=body, headers=bearer(world["sandbox"]))

    results = run_concurrently(app, 4, post)
    assert sorted(r.status_code for r in results) == [200, 200, 200, 201]
    assert len({r.get_json()["transaction"]["id"] for r in results}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Transaction)) == 1


def test_the_status_of_a_transaction_can_be_read_back(app, client, world) -> None:
    created = send(client, world["sandbox"], transaction_body(world["merchant"])).get_json()
    run_jobs(app)
    url = f"{URL}/{created['transaction']['id']}"
    now = client.get(url, headers=bearer(world["sandbox"])).get_json()
    assert now["transaction"]["flexcharge"]["transmit"]["state"] == "sent"
    assert now["transaction"]["flexcharge"]["transmit"]["transmitId"]
    with app.app_context():
        other = factories.make_api_key("Other", company=factories.make_company("Other Co"))
    assert client.get(url, headers=bearer(other.plaintext)).status_code == 404


# ------------------------------------------------------------------------- bad input


def problems(response) -> dict[str, int]:
    """Return {pointer: errorCode} of a refused request."""
    body = response.get_json()
    assert body["success"] is False
    return {problem["pointer"]: problem["errorCode"] for problem in body["errors"]}


@pytest.mark.parametrize(
    ("mutate", "pointer", "code"),
    [
        (lambda b: b.pop("orderId"), "/orderId", 1005),
        (lambda b: b["transaction"].pop("timestampUtc"), "/transaction/timestampUtc", 1005),
        (lambda b: b.pop("channel"), "/channel", 1005),
        (lambda b: b.pop("customerIp"), "/customerIp", 1005),
        (lambda b: (b.pop("siteUrl"), b.pop("descriptor", None)), "/siteUrl", 1005),
        (lambda b: b["transaction"].update(amount=0), "/transaction/amount", 1002),
        (lambda b: b["transaction"].update(amount=-5), "/transaction/amount", 1002),
        (lambda b: b["transaction"].update(amount=10**30), "/transaction/amount", 1002),
        (lambda b: b["transaction"].update(amount=12.5), "/transaction/amount", 1001),
        (lambda b: b["transaction"].update(currency="XYZ"), "/transaction/currency", 1002),
        (lambda b: b["transaction"].update(currency="usd"), "/transaction/currency", 1003),
        (
            lambda b: b["transaction"].update(timestampUtc="2026-05-01T12:30:00"),
            "/transaction/timestampUtc",
            1003,
        ),
        (lambda b: b.update(customerIp="999.1.1.1"), "/customerIp", 1003),
        (lambda b: b.update(initiator="XIT"), "/initiator", 1002),
        (lambda b: b.update(orderId="a\x00b"), "/orderId", 1004),
        (lambda b: b["card"].update(number="4111111111111111"), "/card/number", 1006),
        (lambda b: b.update(surprise=1), "/surprise", 1006),
        (lambda b: b["payer"].update(email="not an e-mail"), "/payer/email", 1003),
        (lambda b: b["card"].update(bin="41"), "/card/bin", 1003),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_input_gets_the_error_code_and_a_pointer(client, world, mutate, pointer, code) -> None:
    body = transaction_body(world["merchant"])
    mutate(body)
    response = send(client, world["sandbox"], body)
    assert response.status_code == 422
    assert problems(response).get(pointer) == code, response.get_json()


@pytest.mark.parametrize(
    ("card", "pointer", "code"),
    [
        ({"number": "4111111111111112"}, "/card/number", 1003),
        ({"number": None}, "/card/number", 1005),
        ({"number": "4111 1111 1111 1111"}, "/card/number", 1003),
        ({"cvv": "12"}, "/card/cvv", 1003),
        ({"bin": "400000"}, "/card/bin", 1002),
    ],
    ids=["luhn", "missing", "spaces", "cvv", "bin mismatch"],
)
def test_a_decline_card_is_checked_without_echoing_it(client, world, card, pointer, code) -> None:
    body = declined_body(world["merchant"])
    body["card"].update(card)
    if card.get("number", "x") is None:
        body["card"].pop("number")
    response = send(client, world["sandbox"], body)
    assert response.status_code == 422
    assert problems(response).get(pointer) == code, response.get_json()
    text = response.get_data(as_text=True)
    assert "4111111111111112" not in text and "4111 1111" not in text


def test_unknown_merchants_and_sites_are_1007(app, client, world) -> None:
    with app.app_context():
        stranger = factories.make_customer("Stranger", factories.make_company("Other Co"))
        stranger_id = stranger.public_id
    cases = [
        (transaction_body("ME-0000-0000-0000-0000-0000-0000"), "/merchant"),
        (transaction_body(stranger_id), "/merchant"),
        (transaction_body(world["merchant"], siteUrl="https://nowhere.example.org"), "/siteUrl"),
        (transaction_body(world["merchant"], siteUrl=None, descriptor="NOPE"), "/descriptor"),
    ]
    for body, pointer in cases:
        response = send(client, world["sandbox"], body)
        assert response.status_code == 422
        assert problems(response) == {pointer: 1007}


def test_bodies_that_are_not_json_huge_or_unauthenticated_never_reach_a_500(client, world) -> None:
    key = bearer(world["sandbox"])
    assert (
        client.post(URL, data=b"{nope", headers=key, content_type="application/json").status_code
        == 422
    )
    big = {"merchant": world["merchant"], "orderId": "x" * 1_000_000}
    refused = client.post(URL, json=big, headers=key)
    # Refused before the body is read, as the provisioning API refuses one (API_MAX_BODY_BYTES).
    assert refused.status_code == 413, refused.get_data(as_text=True)
    assert refused.get_json()["errorCode"] == 1001
    assert client.post(URL, json=transaction_body(world["merchant"])).status_code == 401
    assert client.post(URL, json=[1, 2], headers=key).status_code == 422
    unicode_id = transaction_body(world["merchant"], orderId="\uff4f\uff52\u202e1")
    assert client.post(URL, json=unicode_id, headers=key).status_code in (201, 422)


def test_a_flexcharge_outage_never_loses_the_transaction(app, client, fake, world) -> None:
    fake.refuse_connections()
    response = send(client, world["sandbox"], declined_body(world["merchant"]))
    assert response.status_code == 201
    answer = flexcharge_of(response)
    assert answer["transmit"]["state"] == "pending"
    assert answer["evaluate"]["state"] == "failed"
    assert "refused the connection" in answer["evaluate"]["reason"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Transaction)) == 1
