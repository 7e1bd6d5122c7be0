"""API keys for the JSON API: generation, cheap parsing, keyed hashing and hot-path caches.

Key format (always exactly ``KEY_LENGTH`` = 60 ASCII characters)::

    ptl_live_<key_id>_<secret><checksum>     environment "production"
    ptl_test_<key_id>_<secret><checksum>     environment "sandbox"

    prefix     9 chars   "ptl_live_" or "ptl_test_"
    key_id    12 chars   base62, public, used to find the row (~71 bits)
    "_"        1 char
    secret    32 chars   base62 from ``secrets`` (~190 bits), only ever stored as a keyed hash
    checksum   6 chars   base62 of zlib.crc32 over everything before it, zero-padded

Example shape: ``ptl_live_AbC123dEf456_<32 base62 chars><6 base62 chars>``.

The checksum is not a security control: it lets ``parse`` refuse typos and truncated pastes
before any database lookup or argon2 work, and lets secret scanners recognise real keys.
CRC32 catches every single-character change and every adjacent swap, because both are bursts
shorter than 32 bits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "CHECKSUM_LENGTH",
    "ENVIRONMENTS",
    "KEY_ID_LENGTH",
    "KEY_LENGTH",
    "SECRET_LENGTH",
    "GeneratedKey",
    "LastUsedThrottle",
    "MalformedKey",
    "ParsedKey",
    "VerifiedKeyCache",
    "generate",
    "hash_secret",
    "is_legacy_hash",
    "parse",
    "secret_needs_rehash",
    "verify_secret",
]

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE62_SET = frozenset(BASE62_ALPHABET)

ENVIRONMENTS = ("production", "sandbox")
_PREFIX_BY_ENVIRONMENT = {"production": "ptl_live_", "sandbox": "ptl_test_"}
_ENVIRONMENT_BY_PREFIX = {prefix: env for env, prefix in _PREFIX_BY_ENVIRONMENT.items()}
_PREFIX_LENGTH = 9

KEY_ID_LENGTH = 12
SECRET_LENGTH = 32
# 62**5 < 2**32 <= 62**6, so six characters are the fewest that hold any CRC32 value.
CHECKSUM_LENGTH = 6
KEY_LENGTH = _PREFIX_LENGTH + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH

_KEY_ID_START = _PREFIX_LENGTH
_SEPARATOR_INDEX = _KEY_ID_START + KEY_ID_LENGTH
_SECRET_START = _SEPARATOR_INDEX + 1
_CHECKSUM_START = _SECRET_START + SECRET_LENGTH

# Keys made before the keyed hash are argon2id PHC strings; they still verify (and are rehashed
# on their next success). New keys are "hmac-sha256$<hex>" under the server's pepper.
_LEGACY_HASHER = PasswordHasher()
HMAC_SCHEME = "hmac-sha256$"


def _random_base62(length: int) -> str:
    """Return ``length`` base62 characters drawn from the OS CSPRNG."""
    return "".join(secrets.choice(BASE62_ALPHABET) for _ in range(length))


def _checksum(body: str) -> str:
    """Return the CRC32 of ``body`` as exactly six zero-padded base62 characters."""
    value = zlib.crc32(body.encode("ascii"))
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, remainder = divmod(value, 62)
        digits.append(BASE62_ALPHABET[remainder])
    return "".join(reversed(digits))


@dataclass(frozen=True)
class GeneratedKey:
    """Hold a freshly generated key; ``plaintext`` must be shown to the customer exactly once."""

    # repr=False keeps the secret out of logs and tracebacks that print the object.
    plaintext: str = field(repr=False)
    key_id: str
    secret: str = field(repr=False)
    environment: str
    prefix: str


@dataclass(frozen=True)
class ParsedKey:
    """Hold the parts of a well-formed presented key."""

    key_id: str
    secret: str = field(repr=False)
    environment: str


class MalformedKey(Exception):
    """Signal that a presented key is not a syntactically valid portal API key."""


def generate(environment: str) -> GeneratedKey:
    """Generate a new API key for ``environment`` ("production" or "sandbox")."""
    try:
        prefix = _PREFIX_BY_ENVIRONMENT[environment]
    except KeyError:
        raise ValueError(
            f"unknown environment {environment!r}; expected one of {ENVIRONMENTS}"
        ) from None
    key_id = _random_base62(KEY_ID_LENGTH)
    secret = _random_base62(SECRET_LENGTH)
    body = f"{prefix}{key_id}_{secret}"
    return GeneratedKey(
        plaintext=body + _checksum(body),
        key_id=key_id,
        secret=secret,
        environment=environment,
        prefix=f"{prefix}{key_id}",
    )


def parse(presented: str) -> ParsedKey:
    """Split a presented key into its parts, or raise MalformedKey without touching any storage."""
    # Error messages never echo the presented value: it may be a real key with a typo.
    if not isinstance(presented, str) or len(presented) != KEY_LENGTH:
        raise MalformedKey("API key has the wrong length")
    environment = _ENVIRONMENT_BY_PREFIX.get(presented[:_PREFIX_LENGTH])
    if environment is None:
        raise MalformedKey("API key has an unknown prefix")
    if presented[_SEPARATOR_INDEX] != "_":
        raise MalformedKey("API key is missing the key id separator")
    key_id = presented[_KEY_ID_START:_SEPARATOR_INDEX]
    secret = presented[_SECRET_START:_CHECKSUM_START]
    checksum = presented[_CHECKSUM_START:]
    if not _BASE62_SET.issuperset(key_id + secret + checksum):
        raise MalformedKey("API key contains characters outside base62")
    # compare_digest is not needed for a public checksum but costs nothing and avoids debate.
    if not hmac.compare_digest(_checksum(presented[:_CHECKSUM_START]), checksum):
        raise MalformedKey("API key checksum does not match")
    return ParsedKey(key_id=key_id, secret=secret, environment=environment)


def hash_secret(secret: str, pepper: bytes) -> str:
    """Return the keyed hash of the secret part of a key: HMAC-SHA-256 under the pepper.

    A slow password hash buys nothing for 190 random bits (no dictionary to try), and costs
    the server what an attacker sends: the pepper, kept outside the database, is what makes
    a stolen table useless.
    """
    return HMAC_SCHEME + hmac.new(pepper, secret.encode("ascii"), hashlib.sha256).hexdigest()


def is_legacy_hash(stored_hash: str) -> bool:
    """Tell whether a stored hash is an argon2id string of a key made before the keyed hash."""
    return isinstance(stored_hash, str) and stored_hash.startswith("$argon2")


def verify_secret(stored_hash: str, secret: str, pepper: bytes) -> bool:
    """Return whether ``secret`` matches ``stored_hash``; False for mismatches and bad hashes."""
    if isinstance(stored_hash, str) and stored_hash.startswith(HMAC_SCHEME):
        return hmac.compare_digest(stored_hash, hash_secret(secret, pepper))
    if is_legacy_hash(stored_hash):
        try:
            return _LEGACY_HASHER.verify(stored_hash, secret)
        except (VerificationError, InvalidHashError, TypeError, ValueError):
            return False
    # A corrupt row must behave like a wrong key (401), never a 500.
    return False


def secret_needs_rehash(stored_hash: str) -> bool:
    """Return whether ``stored_hash`` is not (yet) the keyed hash."""
    return not (isinstance(stored_hash, str) and stored_hash.startswith(HMAC_SCHEME))


# A hit only proves the key's secret was verified recently. Callers must still load the key row
# by primary key on every request and reject it when revoked or expired, so revocation takes
# effect immediately on every worker and host; ``discard_id`` only tidies this process.
class VerifiedKeyCache:
    """Remember, per process, which presented keys already verified and for which row."""

    def __init__(
        self,
        hmac_key: bytes,
        *,
        max_size: int = 1024,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create an empty cache keyed by HMAC-SHA-256 under ``hmac_key``."""
        # A short or empty HMAC key would let anyone with a memory dump brute-force cache keys.
        if not isinstance(hmac_key, bytes) or len(hmac_key) < 16:
            raise ValueError("hmac_key must be at least 16 bytes")
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._hmac_key = hmac_key
        self._max_size = max_size
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[bytes, tuple[int, float]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def _digest(self, presented: str) -> bytes:
        """Return the cache key for ``presented``; the raw key is never stored."""
        return hmac.new(self._hmac_key, presented.encode("utf-8"), hashlib.sha256).digest()

    def get(self, presented: str) -> int | None:
        """Return the cached api-key row id for ``presented``, or None when absent or expired."""
        digest = self._digest(presented)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is not None:
                api_key_id, expires_at = entry
                if now < expires_at:
                    self._entries.move_to_end(digest)
                    self.hits += 1
                    return api_key_id
                del self._entries[digest]
            self.misses += 1
            return None

    def put(self, presented: str, api_key_id: int) -> None:
        """Record that ``presented`` verified against row ``api_key_id``."""
        digest = self._digest(presented)
        expires_at = self._clock() + self._ttl
        with self._lock:
            self._entries[digest] = (api_key_id, expires_at)
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)

    def discard_id(self, api_key_id: int) -> None:
        """Drop every entry that points at row ``api_key_id``."""
        with self._lock:
            stale = [d for d, (row_id, _) in self._entries.items() if row_id == api_key_id]
            for digest in stale:
                del self._entries[digest]

    def clear(self) -> None:
        """Drop all entries and reset the hit and miss counters."""
        with self._lock:
            self._entries.clear()
            self.hits = 0
            self.misses = 0

    def stats(self) -> dict[str, int]:
        """Return a snapshot of hits, misses and current size."""
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "size": len(self._entries)}

    def __len__(self) -> int:
        """Return the number of stored entries, expired ones included until they are read."""
        with self._lock:
            return len(self._entries)


class LastUsedThrottle:
    """Decide when a key's "last used" timestamp is worth writing, at most once per interval."""

    def __init__(self, interval: float = 60.0, *, max_size: int = 10_000) -> None:
        """Create a throttle that allows one write per key id every ``interval`` seconds."""
        if interval <= 0:
            raise ValueError("interval must be positive")
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._interval = interval
        self._max_size = max_size
        self._lock = threading.Lock()
        self._last_write: OrderedDict[int, float] = OrderedDict()

    def should_write(self, api_key_id: int, now: float) -> bool:
        """Return True, and remember ``now``, when ``api_key_id`` is due for a write."""
        with self._lock:
            last = self._last_write.get(api_key_id)
            # A clock that went backwards (wall time adjusted) must not suppress writes for long.
            if last is not None and 0 <= now - last < self._interval:
                return False
            self._last_write[api_key_id] = now
            self._last_write.move_to_end(api_key_id)
            # Forgetting an id only costs one extra write, so plain LRU eviction is safe.
            while len(self._last_write) > self._max_size:
                self._last_write.popitem(last=False)
            return True

    def __len__(self) -> int:
        """Return the number of key ids currently remembered."""
        with self._lock:
            return len(self._last_write)
