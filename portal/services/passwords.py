"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults (RFC 9106 low-memory: t=3, m=64 MiB, p=4) exceed OWASP's minimum.
HASHER = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 256

# Verified against when the account does not exist, so a miss costs as much as a hit.
_DUMMY_HASH = HASHER.hash("not a real password, only spends time")


def hash_password(password: str) -> str:
    """Return the PHC string of an argon2id hash of the password."""
    return HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Tell whether the password matches; an absent hash still costs one verification."""
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Tell whether the hash was made with weaker parameters than today's."""
    return HASHER.check_needs_rehash(stored_hash)
