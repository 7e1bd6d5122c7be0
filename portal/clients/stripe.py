"""Stripe: a secret key's format, and a client that asks Stripe's API whether a key works."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import stripe

from portal.clients.http import OutboundError, call
from portal.clients.verification import Outcome, Verification

logger = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{24,}$")
_MIN_BODY_LEN = 24
_BODY_CHARS_RE = re.compile(r"[A-Za-z0-9]*")
# Stripe echoes (masked) keys inside error messages; scrub anything key-shaped.
_KEY_LIKE_RE = re.compile(r"\b((?:sk|rk|pk)_(?:test|live)_)[A-Za-z0-9*]+")


def check_key_format(key: str) -> str | None:
    """Return None for a well-formed key, else a short explanation of the problem."""
    if KEY_PATTERN.fullmatch(key):
        return None
    if not key.startswith(("sk_", "rk_")):
        return "It must start with sk_ or rk_."
    rest = key[3:]
    if not rest.startswith(("test_", "live_")):
        return "It must be followed by test_ or live_."
    body = rest[5:]
    if not _BODY_CHARS_RE.fullmatch(body):
        return "It may contain only letters and digits after the prefix."
    if len(body) < _MIN_BODY_LEN:
        return f"It must have at least {_MIN_BODY_LEN} letters or digits after the prefix."
    # Unreachable while the checks above mirror KEY_PATTERN; kept as a safe default.
    return "It is not a valid Stripe secret key."


def key_mode(key: str) -> str:
    """Return "Live" for a live-mode key and "Test" otherwise."""
    return "Live" if key[3:8] == "live_" else "Test"


class DeadlineHTTPClient(stripe.HTTPClient):
    """The stripe library's transport, bounded to connect, per read and in total."""

    name = "portal-deadline"

    def __init__(self, timeout: float, deadline: float) -> None:
        """Use the timeouts for every call the library makes through this client."""
        super().__init__()
        self.timeout = timeout
        self.deadline = deadline

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        """Send one request; a failure becomes the library's APIConnectionError."""
        try:
            answer = call(
                method.upper(),
                url,
                headers=headers,
                body=post_data,
                connect_timeout=self.timeout,
                read_timeout=self.timeout,
                deadline=self.deadline,
                provider="stripe",
            )
        except OutboundError as error:
            raise stripe.APIConnectionError(error.reason, should_retry=False) from error
        return answer.body, answer.status, answer.headers

    def request_stream(self, *args: Any, **kwargs: Any):
        """Streaming is not used by the portal."""
        raise NotImplementedError("the portal reads whole answers")

    def close(self) -> None:
        """Nothing to close: every call opens and closes its own connection."""


class StripeClient:
    """Stripe's API at a configured base URL, with connect/read timeouts and a deadline."""

    def __init__(self, api_base: str, timeout: float, deadline: float | None = None) -> None:
        """Remember where Stripe is and how long to wait for it."""
        self.api_base = api_base
        self.timeout = float(timeout)
        self.deadline = float(deadline) if deadline else 2 * self.timeout

    def verify_secret_key(self, key: str) -> Verification:
        """Ask Stripe, with one read-only GET /v1/balance, whether a well-formed key works.

        The caller checks the key's shape first (``check_key_format``): a malformed value is
        never sent, as it could carry header-breaking bytes.
        """
        # A client per call: no global stripe.api_key, no state shared across threads.
        client = stripe.StripeClient(
            key,
            base_addresses={"api": self.api_base},
            http_client=DeadlineHTTPClient(self.timeout, self.deadline),
            max_network_retries=0,
        )
        try:
            client.v1.balance.retrieve()
            result = Verification(Outcome.VALID)
        except stripe.StripeError as err:
            result = _classify(err, key)

        logger.info(
            "Stripe key check (%s mode): %s %s",
            key_mode(key),
            result.outcome.value,
            result.detail,
        )
        return result


def _classify(err: stripe.StripeError, key: str) -> Verification:
    """Map a Stripe library error to a Verification without leaking the key."""
    status = err.http_status
    if isinstance(err, stripe.AuthenticationError) or status == 401:
        return Verification(Outcome.INVALID, "Stripe rejected the key")
    if isinstance(err, stripe.PermissionError) or status == 403:
        message = err.user_message or "Stripe did not say which permission is missing."
        return Verification(Outcome.RESTRICTED, _scrub(message, key))
    if isinstance(err, stripe.APIConnectionError):
        return Verification(Outcome.UNREACHABLE, _connection_reason(err))
    if status is None or 200 <= status < 300:
        return Verification(Outcome.UNREACHABLE, "Stripe sent an unreadable answer")
    return Verification(Outcome.UNREACHABLE, f"Stripe answered {status}")


def _scrub(message: str, key: str) -> str:
    """Remove the key, and anything that looks like a key, from Stripe's message."""
    return _KEY_LIKE_RE.sub(r"\1…", message.replace(key, "[key]"))


def _connection_reason(err: stripe.APIConnectionError) -> str:
    """Describe why Stripe gave no usable answer, in a few words."""
    cause = err.__cause__
    if isinstance(cause, OutboundError):
        return cause.reason
    return "could not connect to Stripe"
