"""Build a test app whose Stripe calls go to a FakeStripe served on 127.0.0.1."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator

from flask import Flask

from tests.support.apps import fresh_app

# Short enough that the fake's slow answer times out quickly, long enough for a loaded machine.
STRIPE_TIMEOUT = 1.0


def stripe_app(database_url: str, api_base: str, **extra) -> Iterator[Flask]:
    """Yield an app on the emptied test database that verifies keys against `api_base`."""
    yield from fresh_app(
        database_url, STRIPE_API_BASE=api_base, STRIPE_TIMEOUT=STRIPE_TIMEOUT, **extra
    )


def closed_port_url() -> str:
    """Return a 127.0.0.1 URL on which nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def stripe_key(kind: str = "", *, prefix: str = "sk_test_") -> str:
    """Return a well-formed key; `kind` steers the fake.

    "denied", "noperm", "boom", "slow", or "held" (answered once the test releases it).
    """
    return prefix + kind + secrets.token_hex(12)
