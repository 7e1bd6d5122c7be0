"""Fixed-window request limits: one storage round trip a request, none in memory.

The per-key API limit is a fixed window. On a shared storage (Redis) it is limits'
`FixedWindowRateLimiter`, whose `hit` is one call of the storage's `incr`: on Redis one Lua
script that increments the key and sets its expiry with the first hit, so one round trip a
request (a refused request costs a second one to read the window's reset). Without a shared
storage (`memory://`) the count lives in this process instead of in limits' `MemoryStorage`:
that storage starts a timer thread to expire its keys whenever the last one has ended, which
under load meant a thread start every few requests (benchmarks/api_auth.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from limits import RateLimitItem, WindowStats
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

# Expired windows are dropped when the table reaches this many keys (one per API key seen).
PRUNE_AT = 10_000


class InProcessFixedWindow:
    """limits' fixed-window strategy (`hit`, `get_window_stats`), counted in this process."""

    def __init__(
        self, prune_at: int = PRUNE_AT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start with no windows."""
        self.prune_at = prune_at
        self._clock = clock
        self._lock = threading.Lock()
        # key -> [monotonic time the window ends, hits in it]
        self._windows: dict[str, list] = {}

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        """Count the hit; tell whether the window still had room for it."""
        key = item.key_for(*identifiers)
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or window[0] <= now:
                if len(self._windows) >= self.prune_at:
                    self._prune(now)
                window = self._windows[key] = [now + item.get_expiry(), 0]
            # Like limits' storages, a refused hit still counts.
            window[1] += cost
            return window[1] <= item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """Return when the key's window resets (seconds since the epoch) and what remains."""
        now = self._clock()
        with self._lock:
            window = self._windows.get(item.key_for(*identifiers))
        if window is None or window[0] <= now:
            return WindowStats(time.time(), item.amount)
        return WindowStats(time.time() + window[0] - now, max(0, item.amount - window[1]))

    def _prune(self, now: float) -> None:
        """Drop the windows that have ended (the lock is held)."""
        for key in [key for key, window in self._windows.items() if window[0] <= now]:
            del self._windows[key]


def fixed_window(storage_uri: str, storage: Storage) -> RateLimiter | InProcessFixedWindow:
    """Return the fixed-window strategy for the storage: in this process for memory://."""
    if storage_uri.startswith("memory://"):
        return InProcessFixedWindow()
    return FixedWindowRateLimiter(storage)
