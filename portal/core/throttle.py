"""Per-account sign-in throttle with exponential backoff, in the shared rate-limit storage.

Each attempt is counted atomically *before* the password is checked (increment first, then
decide), so however many attempts arrive at once, at most ``failures_before_backoff`` of them
are checked before the account locks.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits.storage import Storage

# Failures are forgotten after a day without one.
FAILURE_MEMORY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class LoginThrottle:
    """Counts sign-in attempts per account name and locks it out for growing periods."""

    storage: Storage
    failures_before_backoff: int
    base_seconds: int
    max_seconds: int
    prefix: str = "portal"

    def _keys(self, email: str) -> tuple[str, str]:
        # Hashed so that the storage never holds the e-mail addresses people typed.
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return f"{self.prefix}/login-fail/{digest}", f"{self.prefix}/login-lock/{digest}"

    def retry_after(self, email: str) -> int:
        """Return the seconds the account is still locked for, 0 when it is not."""
        _, lock_key = self._keys(email)
        if self.storage.get(lock_key) <= 0:
            return 0
        return max(1, math.ceil(self.storage.get_expiry(lock_key) - time.time()))

    def attempt(self, email: str) -> int:
        """Count an attempt; return 0 when its password may be checked, else the lock's seconds.

        The count grows before the check, atomically in the storage: twenty attempts at once
        take the numbers 1 to 20, and only those up to the threshold are checked.
        """
        locked = self.retry_after(email)
        if locked:
            return locked
        fail_key, lock_key = self._keys(email)
        attempts = self.storage.incr(fail_key, FAILURE_MEMORY_SECONDS)
        excess = attempts - self.failures_before_backoff
        if excess <= 0:
            return 0
        seconds = min(self.max_seconds, self.base_seconds * 2 ** (excess - 1))
        self.storage.clear(lock_key)
        self.storage.incr(lock_key, seconds)
        return seconds

    def succeeded(self, email: str) -> None:
        """Forget the attempts of the account."""
        for key in self._keys(email):
            self.storage.clear(key)


class RefusalHold:
    """Holds refusals of a throttled client for a while before they are sent, a few at a time.

    A client that keeps flooding after it is throttled would otherwise get one cheap 429 after
    another, as fast as it can ask: each costs little, but a flood over a handful of
    connections still keeps the cores busy and every other request waits for them. Held for
    ``seconds``, each connection sends one request per hold and the flood costs almost no CPU.
    A held refusal keeps a server thread, so at most ``slots`` are held at once in a process and
    the rest are answered at once: past that many connections the flood is for the proxy in
    front to cap (README, "The flood and the 2x target").
    """

    def __init__(
        self, seconds: float, slots: int, wait: Callable[[float], object] = time.sleep
    ) -> None:
        """Hold refusals `seconds` each, at most `slots` at once; 0 for either holds none."""
        self.seconds = seconds
        self._slots = threading.BoundedSemaphore(slots) if slots > 0 and seconds > 0 else None
        self._wait = wait

    def hold(self, at_most: float) -> bool:
        """Wait before a refusal (no longer than `at_most`) when a slot is free; say if it did."""
        if self._slots is None or not self._slots.acquire(blocking=False):
            return False
        try:
            self._wait(min(self.seconds, at_most))
        finally:
            self._slots.release()
        return True
