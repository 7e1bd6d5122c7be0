"""Per-account sign-in throttle with exponential backoff, in the shared rate-limit storage.

Each attempt is counted atomically *before* the password is checked (increment first, then
decide), so however many attempts arrive at once, at most ``failures_before_backoff`` of them
are checked before the account locks.
"""

from __future__ import annotations

import hashlib
import math
import time
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
