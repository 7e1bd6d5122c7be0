"""The fixed window counted in this process (memory://), and the choice of strategy."""

from __future__ import annotations

import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from portal.core.rate_limits import InProcessFixedWindow, fixed_window


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_allows_its_amount_then_refuses_until_it_ends() -> None:
    clock = Clock()
    window = InProcessFixedWindow(clock=clock)
    item = parse("3 per minute")
    assert [window.hit(item, "portal", "api-key", "1") for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    clock.now += 30
    assert window.hit(item, "portal", "api-key", "1") is False
    stats = window.get_window_stats(item, "portal", "api-key", "1")
    assert stats.remaining == 0
    clock.now += 30
    assert window.hit(item, "portal", "api-key", "1") is True
    assert window.get_window_stats(item, "portal", "api-key", "1").remaining == 2


def test_each_key_counts_alone_and_reports_its_reset() -> None:
    clock = Clock()
    window = InProcessFixedWindow(clock=clock)
    item = parse("1 per minute")
    assert window.hit(item, "api-key", "1") is True
    assert window.hit(item, "api-key", "1") is False
    assert window.hit(item, "api-key", "2") is True
    clock.now += 20
    seconds_left = window.get_window_stats(item, "api-key", "1").reset_time - time.time()
    assert 39 <= seconds_left <= 41
    assert window.get_window_stats(item, "api-key", "3").remaining == 1


def test_ended_windows_are_dropped_when_the_table_fills() -> None:
    clock = Clock()
    window = InProcessFixedWindow(prune_at=3, clock=clock)
    item = parse("5 per second")
    for key in ("1", "2", "3"):
        window.hit(item, key)
    clock.now += 2
    window.hit(item, "4")
    assert len(window._windows) == 1


def test_memory_is_counted_in_process_and_other_storages_by_limits() -> None:
    assert isinstance(
        fixed_window("memory://", storage_from_string("memory://")), InProcessFixedWindow
    )
    storage = storage_from_string("redis://127.0.0.1:1")  # never connected: built lazily
    assert isinstance(fixed_window("redis://127.0.0.1:1", storage), FixedWindowRateLimiter)
