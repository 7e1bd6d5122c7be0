"""The per-account backoff on the shared storage (memory, or Redis via TEST_REDIS_URL)."""

from __future__ import annotations

import uuid

import pytest
from limits.storage import storage_from_string

from portal.core.throttle import LoginThrottle
from tests.support.apps import TEST_REDIS_URL

pytestmark = pytest.mark.services


@pytest.fixture
def throttle() -> LoginThrottle:
    storage = storage_from_string(TEST_REDIS_URL or "memory://")
    return LoginThrottle(
        storage=storage,
        failures_before_backoff=5,
        base_seconds=30,
        max_seconds=900,
        prefix="test-" + uuid.uuid4().hex,
    )


def test_backoff_starts_after_five_failures_doubles_and_is_capped(throttle) -> None:
    locks = [throttle.failed("a@example.com") for _ in range(12)]
    assert locks[:4] == [0, 0, 0, 0]
    assert locks[4:] == [30, 60, 120, 240, 480, 900, 900, 900]
    assert 890 <= throttle.retry_after("a@example.com") <= 900


def test_accounts_are_counted_apart_and_case_insensitively(throttle) -> None:
    for _ in range(5):
        throttle.failed("A@Example.com")
    assert throttle.retry_after("a@example.com") > 0
    assert throttle.retry_after("b@example.com") == 0


def test_success_forgets_the_failures(throttle) -> None:
    for _ in range(5):
        throttle.failed("a@example.com")
    throttle.succeeded("a@example.com")
    assert throttle.retry_after("a@example.com") == 0
    assert throttle.failed("a@example.com") == 0


def test_two_throttles_on_one_storage_share_counts(throttle) -> None:
    # Two workers: separate objects, one storage.
    other = LoginThrottle(
        storage=storage_from_string(TEST_REDIS_URL) if TEST_REDIS_URL else throttle.storage,
        failures_before_backoff=5,
        base_seconds=30,
        max_seconds=900,
        prefix=throttle.prefix,
    )
    for _ in range(3):
        throttle.failed("a@example.com")
    for _ in range(2):
        other.failed("a@example.com")
    assert throttle.retry_after("a@example.com") > 0


def test_the_storage_never_holds_the_address(throttle) -> None:
    throttle.failed("secret.person@example.com")
    assert all("secret.person" not in key for key in throttle._keys("secret.person@example.com"))
