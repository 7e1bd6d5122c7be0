"""The per-account backoff on the shared storage (memory, or Redis via TEST_REDIS_URL)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits.storage import storage_from_string

from portal.core.throttle import LoginThrottle, RefusalHold
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


def wait_out_the_lock(throttle: LoginThrottle, email: str) -> None:
    """Let the current lock expire, as time passing would."""
    throttle.storage.clear(throttle._keys(email)[1])


def test_five_attempts_are_checked_then_the_lock_doubles_and_is_capped(throttle) -> None:
    assert [throttle.attempt("a@example.com") for _ in range(5)] == [0, 0, 0, 0, 0]
    locks = []
    for _ in range(7):
        locks.append(throttle.attempt("a@example.com"))
        wait_out_the_lock(throttle, "a@example.com")
    assert locks == [30, 60, 120, 240, 480, 900, 900]


def test_attempts_while_locked_are_refused_without_being_counted(throttle) -> None:
    for _ in range(6):
        throttle.attempt("a@example.com")
    assert 25 <= throttle.retry_after("a@example.com") <= 30
    assert 25 <= throttle.attempt("a@example.com") <= 30  # still the first lock, not 60 s


def test_accounts_are_counted_apart_and_case_insensitively(throttle) -> None:
    for _ in range(6):
        throttle.attempt("A@Example.com")
    assert throttle.retry_after("a@example.com") > 0
    assert throttle.retry_after("b@example.com") == 0


def test_success_forgets_the_attempts(throttle) -> None:
    for _ in range(6):
        throttle.attempt("a@example.com")
    throttle.succeeded("a@example.com")
    assert throttle.retry_after("a@example.com") == 0
    assert throttle.attempt("a@example.com") == 0


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
        throttle.attempt("a@example.com")
    for _ in range(3):
        other.attempt("a@example.com")
    assert throttle.retry_after("a@example.com") > 0


def test_twenty_attempts_at_once_get_at_most_five_checks(throttle) -> None:
    barrier = threading.Barrier(20)

    def attempt(_: int) -> int:
        barrier.wait()
        return throttle.attempt("a@example.com")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(attempt, range(20)))
    assert answers.count(0) == 5
    assert all(seconds > 0 for seconds in answers if seconds)


def test_the_storage_never_holds_the_address(throttle) -> None:
    throttle.attempt("secret.person@example.com")
    assert all("secret.person" not in key for key in throttle._keys("secret.person@example.com"))


def test_a_refusal_is_held_no_longer_than_its_retry_after() -> None:
    waits: list[float] = []
    hold = RefusalHold(seconds=1.0, slots=2, wait=waits.append)
    assert hold.hold(at_most=30) is True
    assert hold.hold(at_most=0.25) is True
    assert waits == [1.0, 0.25]


def test_refusals_past_the_slots_are_answered_at_once_and_a_slot_frees_after_its_hold() -> None:
    holding, release = threading.Event(), threading.Event()
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        holding.set()
        release.wait(timeout=30)

    hold = RefusalHold(seconds=1.0, slots=1, wait=wait)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(hold.hold, 30)
        assert holding.wait(timeout=30)
        # The one slot is taken: the next refusal is not held, and nothing waits for it.
        assert hold.hold(at_most=30) is False
        assert waits == [1.0]
        release.set()
        assert first.result(timeout=30) is True
    assert hold.hold(at_most=30) is True
    assert len(waits) == 2


@pytest.mark.parametrize(("seconds", "slots"), [(0.0, 4), (1.0, 0)])
def test_a_hold_of_no_seconds_or_no_slots_holds_nothing(seconds: float, slots: int) -> None:
    waits: list[float] = []
    hold = RefusalHold(seconds=seconds, slots=slots, wait=waits.append)
    assert hold.hold(at_most=30) is False
    assert waits == []
