"""FlexCharge's webhook signature (reference A.7, the vendor sample's ValidateWebhook).

``contentHash = base64(SHA512(body))``;
``toSign = "POST\\n" + nonce + ";" + date + ";" + host + ";" + contentHash``;
``signature = base64(HMAC-SHA512(key = base64decode(subscriberKey), toSign))``, compared with
the ``Signature=`` part of ``x-fc-authorization``. The date (``x-fc-date``, RFC 1123) must be
within five minutes of now, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

TOLERANCE = timedelta(minutes=5)
MAX_HEADER = 512


class Verdict(enum.Enum):
    """The outcome of checking a webhook's signature."""

    VALID = "valid"
    MISSING = "missing"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"


def content_hash(body: bytes) -> str:
    """Return base64 of the SHA-512 of the body."""
    return base64.b64encode(hashlib.sha512(body).digest()).decode()


def signature(key: str, nonce: str, date: str, host: str, body_hash: str) -> str | None:
    """Return the signature FlexCharge computes with the subscriber key, or None for a bad key."""
    try:
        secret = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return None
    to_sign = f"POST\n{nonce};{date};{host};{body_hash}"
    return base64.b64encode(hmac.new(secret, to_sign.encode(), hashlib.sha512).digest()).decode()


def presented_signature(authorization: str) -> str | None:
    """Return the Signature= part of `HMAC-SHA512 SignedHeaders=...&Signature=<b64>`."""
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.upper() != "HMAC-SHA512":
        return None
    for part in rest.split("&"):
        name, _, value = part.strip().partition("=")
        if name == "Signature" and value:
            return value
    return None


def _date_of(text: str) -> datetime | None:
    """Parse an RFC 1123 date, or None."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def verify(
    keys: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    host: str,
    now: datetime | None = None,
) -> tuple[Verdict, int | None]:
    """Check the signature with each key; return the verdict and the index of the key that fit."""
    nonce = headers.get("x-fc-nonce", "")
    date = headers.get("x-fc-date", "")
    authorization = headers.get("x-fc-authorization", "")
    if (
        not (nonce and date and authorization)
        or max(map(len, (nonce, date, authorization))) > MAX_HEADER
    ):
        return Verdict.MISSING, None
    presented = presented_signature(authorization)
    body_hash = content_hash(body)
    sent_hash = headers.get("x-fc-content-sha512")
    if presented is None or (sent_hash and not hmac.compare_digest(sent_hash, body_hash)):
        return Verdict.BAD_SIGNATURE, None
    match = None
    for index, key in enumerate(keys):
        expected = signature(key, nonce, date, host, body_hash)
        if expected is not None and hmac.compare_digest(expected, presented):
            match = index
    if match is None:
        return Verdict.BAD_SIGNATURE, None
    # The date is signed, so it is checked only once it is known to be FlexCharge's.
    moment = _date_of(date)
    now = now or datetime.now(UTC)
    if moment is None or abs(now - moment) > TOLERANCE:
        return Verdict.STALE, match
    return Verdict.VALID, match
