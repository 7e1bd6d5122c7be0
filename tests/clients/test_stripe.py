"""Tests for Stripe key format checks and live verification against a fake Stripe."""

from __future__ import annotations

import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe as stripe_lib

from portal.clients.stripe import (
    KEY_PATTERN,
    Outcome,
    StripeClient,
    Verification,
    check_key_format,
    key_mode,
)
from tests.support import fake_stripe
from tests.support.fake_stripe import FakeStripe
from tests.support.tcp import BlackHole, Unaccepting

BODY = "51HabcdefghijklmnopqrstUV"  # 25 letters and digits


def make_key(marker: str = "", *, prefix: str = "sk_test_") -> str:
    """Build a well-formed key carrying a marker that steers the fake."""
    return prefix + marker + BODY


@pytest.fixture
def closed_port_url() -> str:
    """Return a URL whose port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- format -----------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        make_key(),
        make_key(prefix="sk_live_"),
        make_key(prefix="rk_test_"),
        make_key(prefix="rk_live_"),
        "sk_test_" + "a" * 24,
    ],
)
def test_well_formed_keys_pass(key: str) -> None:
    assert check_key_format(key) is None
    assert KEY_PATTERN.fullmatch(key)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("pk_test_" + BODY, "It must start with sk_ or rk_."),
        ("", "It must start with sk_ or rk_."),
        ("SK_test_" + BODY, "It must start with sk_ or rk_."),
        ("sk_prod_" + BODY, "It must be followed by test_ or live_."),
        ("sk_" + BODY, "It must be followed by test_ or live_."),
        (
            "sk_test_" + "a" * 23,
            "It must have at least 24 letters or digits after the prefix.",
        ),
        ("sk_test_", "It must have at least 24 letters or digits after the prefix."),
        (
            "sk_test_" + BODY + "-x",
            "It may contain only letters and digits after the prefix.",
        ),
        (
            "sk_test_" + BODY + " ",
            "It may contain only letters and digits after the prefix.",
        ),
        (
            "sk_test_" + BODY + "\n",
            "It may contain only letters and digits after the prefix.",
        ),
        (
            "sk_test_" + "é" * 30,
            "It may contain only letters and digits after the prefix.",
        ),
    ],
)
def test_malformed_keys_are_explained(key: str, message: str) -> None:
    assert check_key_format(key) == message


def test_key_mode() -> None:
    assert key_mode(make_key()) == "Test"
    assert key_mode(make_key(prefix="rk_live_")) == "Live"


def test_saved_ok() -> None:
    assert Verification(Outcome.VALID, "").saved_ok
    assert Verification(Outcome.RESTRICTED, "x").saved_ok
    assert not Verification(Outcome.INVALID, "").saved_ok
    assert not Verification(Outcome.UNREACHABLE, "x").saved_ok


# --- verification against the fake ------------------------------------------


def verify(key: str, base_url: str, timeout: float = 2.0) -> Verification:
    """Verify a key and check that the detail never echoes it."""
    result = StripeClient(base_url, timeout).verify_secret_key(key)
    assert key not in result.detail
    assert key.removeprefix("sk_test_").removeprefix("rk_test_") not in result.detail
    return result


def test_working_key_is_valid(fake: FakeStripe) -> None:
    result = verify(make_key(), fake.base_url)

    assert result.outcome is Outcome.VALID
    assert result.saved_ok
    assert len(fake.requests) == 1
    request = fake.requests[0]
    assert (request.method, request.path, request.has_auth) == (
        "GET",
        "/v1/balance",
        True,
    )


def test_rejected_key_is_invalid(fake: FakeStripe) -> None:
    result = verify(make_key("denied"), fake.base_url)

    assert result.outcome is Outcome.INVALID
    assert not result.saved_ok
    assert len(fake.requests) == 1


def test_restricted_key_reports_missing_permission(fake: FakeStripe) -> None:
    key = make_key("noperm", prefix="rk_test_")
    result = verify(key, fake.base_url)

    assert result.outcome is Outcome.RESTRICTED
    assert result.saved_ok
    assert "rak_balance_read" in result.detail
    assert "*" not in result.detail
    assert len(fake.requests) == 1


def test_server_error_is_unreachable_without_retry(fake: FakeStripe) -> None:
    result = verify(make_key("boom"), fake.base_url)

    assert result == Verification(Outcome.UNREACHABLE, "Stripe answered 500")
    assert len(fake.requests) == 1


def test_unexpected_client_error_reports_status(fake: FakeStripe) -> None:
    result = verify(make_key(), fake.base_url + "/nowhere")

    assert result == Verification(Outcome.UNREACHABLE, "Stripe answered 404")
    assert len(fake.requests) == 1


def test_slow_answer_times_out(fake: FakeStripe) -> None:
    started = time.monotonic()
    result = verify(make_key("slow"), fake.base_url, timeout=0.5)
    elapsed = time.monotonic() - started

    assert result.outcome is Outcome.UNREACHABLE
    assert result.detail == "timed out after 0.5 s"
    assert elapsed < 2.0
    assert len(fake.requests) == 1


def test_stop_releases_a_pending_slow_answer() -> None:
    fake = FakeStripe()
    verify(make_key("slow"), fake.base_url, timeout=0.2)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 1.0


def test_refused_connection_is_unreachable(closed_port_url: str) -> None:
    result = verify(make_key(), closed_port_url)

    assert result == Verification(Outcome.UNREACHABLE, "connection refused")


def test_concurrent_checks_do_not_mix_keys(fake: FakeStripe) -> None:
    markers = ["", "denied", "noperm", "boom"] * 5
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda m: verify(make_key(m), fake.base_url), markers))

    expected = {
        "": Outcome.VALID,
        "denied": Outcome.INVALID,
        "noperm": Outcome.RESTRICTED,
        "boom": Outcome.UNREACHABLE,
    }
    assert [r.outcome for r in results] == [expected[m] for m in markers]
    assert len(fake.requests) == len(markers)


def test_key_never_logged(fake: FakeStripe, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for marker in ("", "denied", "noperm", "boom"):
        key = make_key(marker)
        verify(key, fake.base_url)
        assert key not in caplog.text


def test_global_stripe_state_untouched(fake: FakeStripe) -> None:
    before = (stripe_lib.api_key, stripe_lib.api_base, stripe_lib.max_network_retries)
    verify(make_key(), fake.base_url)
    assert (
        stripe_lib.api_key,
        stripe_lib.api_base,
        stripe_lib.max_network_retries,
    ) == before


def test_connect_timeout_is_unreachable() -> None:
    with Unaccepting() as port:
        result = verify(make_key(), f"http://127.0.0.1:{port.port}", timeout=0.5)

    assert result == Verification(Outcome.UNREACHABLE, "timed out after 0.5 s")


def test_a_trickling_answer_is_cut_at_the_deadline(fake: FakeStripe) -> None:
    started = time.monotonic()
    result = StripeClient(fake.base_url, timeout=1.0, deadline=1.5).verify_secret_key(
        make_key("trickle")
    )
    assert result == Verification(Outcome.UNREACHABLE, "no complete answer within 1.5 s")
    assert time.monotonic() - started < fake_stripe.TRICKLE_SECONDS


def test_an_answer_that_is_not_http_is_said_so(fake: FakeStripe) -> None:
    result = verify(make_key("garbage"), fake.base_url, timeout=1.0)
    assert result == Verification(Outcome.UNREACHABLE, "the answer was not valid HTTP")


def test_a_server_that_never_answers_times_out_reading() -> None:
    with BlackHole() as hole:
        result = verify(make_key(), f"http://127.0.0.1:{hole.port}", timeout=0.5)
    assert result == Verification(Outcome.UNREACHABLE, "timed out after 0.5 s")
