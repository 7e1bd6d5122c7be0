"""The webhook signature check, against headers signed by the test's own implementation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from portal.core.webhook_signatures import Verdict, presented_signature, verify
from tests.support.fake_flexcharge import sign_webhook
from tests.support.flexcharge import WEBHOOK_KEY

BODY = b'{"Event":"order.completed","OrderId":"ac9674ed"}'


def test_the_key_that_signed_is_found_among_several() -> None:
    headers = sign_webhook(WEBHOOK_KEY, BODY, "portal.example")
    keys = ["c2FuZGJveC1rZXk=", WEBHOOK_KEY]
    assert verify(keys, headers, BODY, "portal.example") == (Verdict.VALID, 1)
    assert verify(["not base64!"], headers, BODY, "portal.example") == (Verdict.BAD_SIGNATURE, None)
    assert verify([], headers, BODY, "portal.example") == (Verdict.BAD_SIGNATURE, None)


def test_the_content_hash_header_must_match_the_body() -> None:
    headers = sign_webhook(WEBHOOK_KEY, BODY, "h")
    headers["x-fc-content-sha512"] = "AAAA"
    assert verify([WEBHOOK_KEY], headers, BODY, "h")[0] is Verdict.BAD_SIGNATURE


def test_the_date_is_checked_after_the_signature() -> None:
    old = format_datetime(datetime.now(UTC) - timedelta(minutes=10), usegmt=True)
    headers = sign_webhook(WEBHOOK_KEY, BODY, "h", date=old)
    assert verify([WEBHOOK_KEY], headers, BODY, "h")[0] is Verdict.STALE
    headers = sign_webhook(WEBHOOK_KEY, BODY, "h", date="not a date")
    assert verify([WEBHOOK_KEY], headers, BODY, "h")[0] is Verdict.STALE


def test_missing_or_oversized_headers() -> None:
    headers = sign_webhook(WEBHOOK_KEY, BODY, "h")
    assert verify([WEBHOOK_KEY], {}, BODY, "h")[0] is Verdict.MISSING
    assert (
        verify([WEBHOOK_KEY], {**headers, "x-fc-nonce": "n" * 600}, BODY, "h")[0] is Verdict.MISSING
    )


def test_the_signature_part_of_the_authorization_header() -> None:
    header = (
        "HMAC-SHA512 SignedHeaders=x-fc-nonce;x-fc-date;host;x-fc-content-sha512&Signature=abc="
    )
    assert presented_signature(header) == "abc="
    assert presented_signature("Bearer abc") is None
    assert presented_signature("HMAC-SHA512 SignedHeaders=x") is None
