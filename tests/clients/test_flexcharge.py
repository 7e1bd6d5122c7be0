"""The FlexCharge client against a FlexCharge-like server on 127.0.0.1: answers and failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from portal.clients.flexcharge import Card, Failure, FlexChargeClient, FlexChargeError
from tests.support.fake_flexcharge import APPROVING_CARD, FakeFlexCharge
from tests.support.stripe_app import closed_port_url


@pytest.fixture
def fake() -> Iterator[FakeFlexCharge]:
    """Serve a FlexCharge-like API on 127.0.0.1."""
    with FakeFlexCharge() as server:
        yield server


def client_for(fake: FakeFlexCharge, timeout: float = 1.0, deadline: float = 2.0):
    """Return a client whose two environments are the fake's."""
    bases = {env: fake.base_url(env) for env in ("sandbox", "production")}
    return FlexChargeClient(bases, timeout=timeout, deadline=deadline)


def failure(call) -> FlexChargeError:
    """Run a call that must fail; return its error."""
    with pytest.raises(FlexChargeError) as raised:
        call()
    return raised.value


def test_a_token_lasts_ten_minutes_and_each_environment_has_its_own_base(fake) -> None:
    client = client_for(fake)
    token = client.fetch_token("sandbox", "key", "secret")
    now = datetime.now(UTC)
    assert now + timedelta(minutes=9) < token.expires_at <= now + timedelta(minutes=10, seconds=5)
    assert "secret" not in repr(token) and token.value not in repr(token)
    assert [call.environment for call in fake.calls("/oauth2/token")] == ["sandbox"]
    # A sandbox token means nothing to production.
    error = failure(lambda: client.transmit("production", token.value, {"orderId": "1"}))
    assert error.unauthorized and error.retryable


def test_rejected_credentials_say_so_and_are_not_retried(fake) -> None:
    error = failure(lambda: client_for(fake).fetch_token("sandbox", "key", "denied"))
    assert error.failure is Failure.REJECTED and error.status == 400
    assert error.message == (
        "FlexCharge Sandbox refused the request (400: Invalid AppKey or AppSecret)"
    )
    assert not error.retryable


def test_transmit_returns_the_transmit_id_and_explains_a_validation_error(fake) -> None:
    client = client_for(fake)
    token = client.fetch_token("production", "key", "secret").value
    body = {"orderId": "o-1", "isDeclined": False, "transaction": {"id": "t-1"}}
    assert client.transmit("production", token, body)
    error = failure(lambda: client.transmit("production", token, {"isDeclined": False}))
    assert error.status == 400 and not error.retryable
    assert "The OrderId field is required." in error.message


def test_tokenize_then_evaluate(fake) -> None:
    client = client_for(fake)
    token = client.fetch_token("sandbox", "key", "secret").value
    card = Card(APPROVING_CARD, "123", 12, 2030, "Cure", "Tester")
    assert APPROVING_CARD not in repr(card) and "123" not in repr(card)
    payment_token = client.tokenize("sandbox", token, "mid-guid", "tok-key", card)
    body = {
        "idempotencyKey": "5b9f0c54-6a43-4d0c-9d1a-1f7c7e0a4f11",
        "isDeclined": True,
        "isMIT": True,
        "orderId": "o-1",
        "transaction": {
            "id": "t-1",
            "amount": 1500,
            "responseCode": "05",
            "avsResultCode": "NA",
            "cvvResultCode": "NA",
            "cavvResultCode": "NA",
            "responseCodeSource": "NMI",
        },
        "paymentMethod": {"cardNumber": payment_token},
    }
    evaluation = client.evaluate("sandbox", token, body)
    assert evaluation.status == "APPROVED" and evaluation.order_session_key
    # The same idempotency key gets the same answer.
    assert client.evaluate("sandbox", token, body) == evaluation
    (tokenize,) = fake.calls("/tokenize")
    assert tokenize.query["environment"] == ["tok-key"] and tokenize.bearer


@pytest.mark.parametrize(
    ("switch", "failure_kind", "message", "status"),
    [
        (
            lambda f: f.fail("/transmit", 503),
            Failure.SERVER_ERROR,
            "FlexCharge Sandbox answered 503",
            503,
        ),
        (
            lambda f: f.fail("/transmit", 429),
            Failure.REJECTED,
            "FlexCharge Sandbox refused the request (429",
            429,
        ),
        (
            lambda f: f.garble("/transmit"),
            Failure.BAD_ANSWER,
            "FlexCharge Sandbox sent an answer that is not JSON",
            200,
        ),
        (
            lambda f: f.slow("/transmit", 3),
            Failure.TIMEOUT,
            "FlexCharge Sandbox did not answer within",
            None,
        ),
    ],
    ids=["5xx", "429", "not json", "slow"],
)
def test_failures_say_what_happened_and_may_be_retried(
    fake, switch, failure_kind, message, status
) -> None:
    client = client_for(fake, timeout=0.3, deadline=0.6)
    token = client.fetch_token("sandbox", "key", "secret").value
    switch(fake)
    error = failure(lambda: client.transmit("sandbox", token, {"orderId": "1"}))
    assert error.failure is failure_kind
    assert error.message.startswith(message)
    assert error.status == status
    assert error.retryable


def test_a_refused_connection_says_so() -> None:
    client = FlexChargeClient({"sandbox": closed_port_url() + "/v1"}, timeout=1, deadline=2)
    error = failure(lambda: client.fetch_token("sandbox", "key", "secret"))
    assert error.failure is Failure.REFUSED
    assert error.message == "FlexCharge Sandbox refused the connection"
    assert error.retryable


def test_the_fake_refuses_then_accepts_connections_on_the_same_port(fake) -> None:
    client = client_for(fake)
    fake.refuse_connections()
    assert failure(lambda: client.fetch_token("sandbox", "k", "s")).failure is Failure.REFUSED
    fake.accept_connections()
    assert client.fetch_token("sandbox", "k", "s").value
