"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

# argon2-cffi's defaults (RFC 9106 low-memory: t=3, m=64 MiB, p=4) exceed OWASP's minimum.
_hasher = PasswordHasher()
# Verified against when the account does not exist, so a miss costs as much as a hit. Made on
# the first verification, not at import: each hash costs about 0.1 s of a worker's start.
_dummy_hash: str | None = None


def configure(time_cost: int | None, memory_kib: int | None, parallelism: int | None) -> None:
    """Use other argon2id costs for new hashes (tests lower them; None keeps the default)."""
    global _hasher, _dummy_hash
    default = PasswordHasher()
    _hasher = PasswordHasher(
        time_cost=time_cost or default.time_cost,
        memory_cost=memory_kib or default.memory_cost,
        parallelism=parallelism or default.parallelism,
    )
    _dummy_hash = None


def hash_password(password: str) -> str:
    """Return the PHC string of an argon2id hash of the password."""
    return _hasher.hash(password)


def stand_in_hash() -> str:
    """Return the hash a missing account's password is checked against (made once)."""
    global _dummy_hash
    if _dummy_hash is None:
        # Two threads may both make one: either serves, and neither waits for a lock.
        _dummy_hash = _hasher.hash("not a real password, only spends time")
    return _dummy_hash


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Tell whether the password matches; an absent hash still costs one verification."""
    # Made before either kind of check, so the first one in a process costs the same
    # whether the account exists or not.
    stand_in = stand_in_hash()
    try:
        return _hasher.verify(stored_hash or stand_in, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Tell whether the hash was made with other parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)
