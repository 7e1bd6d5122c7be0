"""Tests for portal.core.api_key_tokens (SECURITY.md items 10-12)."""

from __future__ import annotations

import threading

import pytest
from argon2 import PasswordHasher

from portal.core import api_key_tokens as tokens
from portal.core.api_key_tokens import (
    BASE62_ALPHABET,
    ENVIRONMENTS,
    KEY_LENGTH,
    GeneratedKey,
    LastUsedThrottle,
    MalformedKey,
    ParsedKey,
    VerifiedKeyCache,
    generate,
    hash_secret,
    parse,
    secret_needs_rehash,
    verify_secret,
)

HMAC_KEY = b"k" * 32
BASE62 = set(BASE62_ALPHABET)


class FakeClock:
    """Return a manually advanced time."""

    def __init__(self, start: float = 1000.0) -> None:
        """Start the clock at ``start``."""
        self.now = start

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds


def _other_char(char: str) -> str:
    """Return a base62 character different from ``char``."""
    return "A" if char != "A" else "B"


def _replace(text: str, index: int, char: str) -> str:
    """Return ``text`` with the character at ``index`` replaced."""
    return text[:index] + char + text[index + 1 :]


# --- generation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "prefix"), [("production", "ptl_live_"), ("sandbox", "ptl_test_")]
)
def test_generate_shape(environment: str, prefix: str) -> None:
    """Check prefix, fixed length and base62 parts for each environment."""
    key = generate(environment)
    assert key.environment == environment
    assert key.plaintext.startswith(prefix)
    assert len(key.plaintext) == KEY_LENGTH == 60
    assert len(key.key_id) == 12
    assert len(key.secret) == 32
    assert set(key.key_id) <= BASE62
    assert set(key.secret) <= BASE62
    assert key.prefix == f"{prefix}{key.key_id}"
    assert key.plaintext.startswith(key.prefix + "_" + key.secret)
    assert len(key.plaintext) - len(key.prefix + "_" + key.secret) == 6


def test_environments_constant() -> None:
    """Check the supported environments."""
    assert ENVIRONMENTS == ("production", "sandbox")


def test_generate_unknown_environment() -> None:
    """Refuse an environment that has no prefix."""
    with pytest.raises(ValueError, match="unknown environment"):
        generate("staging")


def test_generate_unique_across_1000_keys() -> None:
    """Produce distinct keys, ids and secrets across 1000 draws."""
    keys = [generate("production") for _ in range(1000)]
    assert len({k.plaintext for k in keys}) == 1000
    assert len({k.key_id for k in keys}) == 1000
    assert len({k.secret for k in keys}) == 1000


def test_secret_has_at_least_128_bits() -> None:
    """Check the secret carries at least 128 bits of entropy."""
    import math

    key = generate("sandbox")
    assert len(key.secret) * math.log2(62) >= 128


def test_secret_characters_look_uniform() -> None:
    """Check secrets draw on the whole base62 alphabet."""
    # A crude check that the whole alphabet is used, catching e.g. hex-only generation.
    seen: set[str] = set()
    for _ in range(200):
        seen.update(generate("production").secret)
    assert seen == BASE62


def test_reprs_do_not_leak_secret() -> None:
    """Keep the secret out of dataclass reprs."""
    key = generate("production")
    assert key.secret not in repr(key)
    parsed = parse(key.plaintext)
    assert key.secret not in repr(parsed)
    assert key.key_id in repr(key)


def test_generated_key_is_frozen() -> None:
    """Refuse mutation of a generated key."""
    key = generate("production")
    assert isinstance(key, GeneratedKey)
    with pytest.raises(AttributeError):
        key.secret = "x"  # type: ignore[misc]


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_parse_roundtrip(environment: str) -> None:
    """Parse a generated key back into its parts."""
    key = generate(environment)
    parsed = parse(key.plaintext)
    assert parsed == ParsedKey(key_id=key.key_id, secret=key.secret, environment=environment)


def test_checksum_is_zero_padded() -> None:
    """Zero-pad small CRC values to six characters."""
    # Small CRC values must still produce six characters.
    assert tokens._checksum("") == "000000"  # crc32(b"") == 0
    assert all(len(tokens._checksum(generate("sandbox").plaintext[:54])) == 6 for _ in range(50))


@pytest.fixture
def valid() -> str:
    """Return a fresh production key."""
    return generate("production").plaintext


def test_wrong_prefix(valid: str) -> None:
    """Refuse unknown or miscased prefixes."""
    for prefix in ("ptl_prod_", "PTL_LIVE_", "xtl_live_", "ptl-live_"):
        with pytest.raises(MalformedKey):
            parse(prefix + valid[9:])


def test_prefix_swap_is_caught_by_checksum(valid: str) -> None:
    """Refuse a live key relabelled as a test key."""
    # Relabelling a live key as test must not parse: the checksum covers the prefix.
    with pytest.raises(MalformedKey, match="checksum"):
        parse("ptl_test_" + valid[9:])


def test_truncated(valid: str) -> None:
    """Refuse truncated keys."""
    for length in (0, 1, 9, 21, 54, KEY_LENGTH - 1):
        with pytest.raises(MalformedKey, match="length"):
            parse(valid[:length])


def test_extra_character(valid: str) -> None:
    """Refuse keys with an extra character."""
    with pytest.raises(MalformedKey, match="length"):
        parse(valid + "a")
    with pytest.raises(MalformedKey, match="length"):
        parse(" " + valid)


def test_every_single_flipped_secret_char_is_caught(valid: str) -> None:
    """Catch every one-character typo in the secret by checksum."""
    for index in range(22, 54):
        with pytest.raises(MalformedKey, match="checksum"):
            parse(_replace(valid, index, _other_char(valid[index])))


def test_every_single_flipped_char_anywhere_is_caught(valid: str) -> None:
    """Catch a one-character typo at any position."""
    for index in range(KEY_LENGTH):
        with pytest.raises(MalformedKey):
            parse(_replace(valid, index, _other_char(valid[index])))


def test_adjacent_swaps_are_caught(valid: str) -> None:
    """Catch swapped adjacent characters."""
    for index in range(22, KEY_LENGTH - 1):
        a, b = valid[index], valid[index + 1]
        if a == b:
            continue
        swapped = valid[:index] + b + a + valid[index + 2 :]
        with pytest.raises(MalformedKey):
            parse(swapped)


@pytest.mark.parametrize("bad", ["-", "+", "/", "=", " ", "é", "٣", "_"])
def test_non_base62_char(valid: str, bad: str) -> None:
    """Refuse characters outside ASCII base62."""
    with pytest.raises(MalformedKey):
        parse(_replace(valid, 30, bad))


def test_missing_separator(valid: str) -> None:
    """Refuse a key without the separator after the key id."""
    with pytest.raises(MalformedKey, match="separator"):
        parse(_replace(valid, 21, "A"))


def test_non_string_input() -> None:
    """Refuse non-string input as malformed."""
    with pytest.raises(MalformedKey):
        parse(None)  # type: ignore[arg-type]
    with pytest.raises(MalformedKey):
        parse(b"ptl_live_" + b"a" * 51)  # type: ignore[arg-type]


def test_error_message_never_echoes_key(valid: str) -> None:
    """Keep the presented key out of error messages."""
    typo = _replace(valid, 40, _other_char(valid[40]))
    with pytest.raises(MalformedKey) as info:
        parse(typo)
    assert typo[22:54] not in str(info.value)
    assert typo not in repr(info.value)


def test_typo_rejected_before_any_hash_work(monkeypatch: pytest.MonkeyPatch, valid: str) -> None:
    """Reject a typo with hashing backends unavailable."""

    def forbidden(*_args: object, **_kwargs: object) -> None:
        """Fail if called."""
        raise AssertionError("hashing must not run for malformed keys")

    class ForbiddenModule:
        """Fail on any attribute access, standing in for a hashing backend."""

        def __getattr__(self, name: str) -> object:
            """Raise for every attribute lookup."""
            raise AssertionError(f"hashing ({name}) must not run for malformed keys")

    monkeypatch.setattr(tokens, "hash_secret", forbidden)
    monkeypatch.setattr(tokens, "verify_secret", forbidden)
    monkeypatch.setattr(tokens, "_LEGACY_HASHER", ForbiddenModule())
    monkeypatch.setattr(tokens, "hashlib", ForbiddenModule())
    typo = _replace(valid, 40, _other_char(valid[40]))
    with pytest.raises(MalformedKey):
        tokens.parse(typo)
    # The valid key still parses under the same restrictions: parse never needs a hash.
    assert tokens.parse(valid).secret == valid[22:54]


# --- hashing ------------------------------------------------------------------------------


PEPPER = b"a test pepper of 32 bytes or so.."


def test_hash_and_verify() -> None:
    """Verify the right secret and refuse others."""
    key = generate("production")
    stored = hash_secret(key.secret, PEPPER)
    assert stored.startswith("hmac-sha256$")
    assert key.secret not in stored
    assert verify_secret(stored, key.secret, PEPPER) is True
    assert verify_secret(stored, generate("production").secret, PEPPER) is False
    assert verify_secret(stored, key.secret[:-1], PEPPER) is False


def test_the_hash_is_keyed_by_the_pepper() -> None:
    """A stolen table is useless without the pepper kept outside the database."""
    secret = generate("sandbox").secret
    stored = hash_secret(secret, PEPPER)
    assert hash_secret(secret, PEPPER) == stored  # deterministic: 190 random bits need no salt
    assert verify_secret(stored, secret, b"another pepper, another server!!") is False


def test_legacy_argon2_hashes_still_verify_and_need_a_rehash() -> None:
    """Keys made before the keyed hash keep working until their next success."""
    secret = generate("sandbox").secret
    legacy = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(secret)
    assert verify_secret(legacy, secret, PEPPER) is True
    assert secret_needs_rehash(legacy) is True
    assert secret_needs_rehash(hash_secret(secret, PEPPER)) is False


@pytest.mark.parametrize(
    "stored", ["", "not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$bad$bad", "x" * 500, None]
)
def test_verify_invalid_hash_returns_false(stored: str) -> None:
    """Return False for corrupt stored hashes instead of raising."""
    assert verify_secret(stored, "whatever", PEPPER) is False
    assert secret_needs_rehash(stored) is True


# --- verified-key cache -------------------------------------------------------------------


def test_cache_miss_then_hit() -> None:
    """Count a miss before put and a hit after."""
    cache = VerifiedKeyCache(HMAC_KEY, clock=FakeClock())
    key = generate("production").plaintext
    assert cache.get(key) is None
    cache.put(key, 7)
    assert cache.get(key) == 7
    assert (cache.hits, cache.misses) == (1, 1)
    assert cache.stats() == {"hits": 1, "misses": 1, "size": 1}


def test_cache_distinguishes_keys() -> None:
    """Keep entries for different keys apart."""
    cache = VerifiedKeyCache(HMAC_KEY, clock=FakeClock())
    a, b = generate("production").plaintext, generate("production").plaintext
    cache.put(a, 1)
    assert cache.get(b) is None


def test_cache_ttl_expiry() -> None:
    """Expire entries after the TTL and drop them on read."""
    clock = FakeClock()
    cache = VerifiedKeyCache(HMAC_KEY, ttl=60.0, clock=clock)
    key = generate("sandbox").plaintext
    cache.put(key, 3)
    clock.advance(59.9)
    assert cache.get(key) == 3
    clock.advance(0.1)
    assert cache.get(key) is None
    assert len(cache) == 0  # the expired entry was dropped on read


def test_cache_hit_does_not_extend_ttl() -> None:
    """Keep the original expiry when an entry is read."""
    clock = FakeClock()
    cache = VerifiedKeyCache(HMAC_KEY, ttl=10.0, clock=clock)
    key = generate("sandbox").plaintext
    cache.put(key, 3)
    for _ in range(9):
        clock.advance(1.0)
        assert cache.get(key) == 3
    clock.advance(1.0)
    assert cache.get(key) is None


def test_cache_lru_eviction() -> None:
    """Evict the least recently used entry at max_size."""
    cache = VerifiedKeyCache(HMAC_KEY, max_size=3, clock=FakeClock())
    keys = [generate("production").plaintext for _ in range(4)]
    for i, key in enumerate(keys[:3]):
        cache.put(key, i)
    assert cache.get(keys[0]) == 0  # touch: keys[1] becomes least recently used
    cache.put(keys[3], 3)
    assert len(cache) == 3
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) == 0
    assert cache.get(keys[2]) == 2
    assert cache.get(keys[3]) == 3


def test_cache_discard_id() -> None:
    """Drop every entry for a discarded row id."""
    cache = VerifiedKeyCache(HMAC_KEY, clock=FakeClock())
    a, b, c = (generate("production").plaintext for _ in range(3))
    cache.put(a, 1)
    cache.put(b, 1)
    cache.put(c, 2)
    cache.discard_id(1)
    assert cache.get(a) is None
    assert cache.get(b) is None
    assert cache.get(c) == 2
    cache.discard_id(999)  # unknown ids are a no-op
    assert len(cache) == 1


def test_cache_clear() -> None:
    """Empty the cache and reset counters."""
    cache = VerifiedKeyCache(HMAC_KEY, clock=FakeClock())
    key = generate("production").plaintext
    cache.put(key, 1)
    cache.get(key)
    cache.clear()
    assert len(cache) == 0
    assert cache.get(key) is None
    assert (cache.hits, cache.misses) == (0, 1)


def test_cache_never_stores_raw_key() -> None:
    """Store only 32-byte HMAC digests, never the key."""
    cache = VerifiedKeyCache(HMAC_KEY, clock=FakeClock())
    key = generate("production")
    cache.put(key.plaintext, 1)
    stored_keys = list(cache._entries.keys())
    assert len(stored_keys) == 1
    assert all(isinstance(k, bytes) and len(k) == 32 for k in stored_keys)
    blob = repr(cache.__dict__)
    assert key.plaintext not in blob
    assert key.secret not in blob
    assert key.secret.encode() not in stored_keys[0]


def test_cache_digest_depends_on_hmac_key() -> None:
    """Derive different digests under different HMAC keys."""
    key = generate("production").plaintext
    first = VerifiedKeyCache(b"a" * 32, clock=FakeClock())
    second = VerifiedKeyCache(b"b" * 32, clock=FakeClock())
    assert first._digest(key) != second._digest(key)


@pytest.mark.parametrize(
    "kwargs",
    [{"hmac_key": b""}, {"hmac_key": b"short"}, {"max_size": 0}, {"ttl": 0}, {"ttl": -1.0}],
)
def test_cache_rejects_bad_config(kwargs: dict[str, object]) -> None:
    """Refuse weak HMAC keys and nonsensical limits."""
    args: dict[str, object] = {"hmac_key": HMAC_KEY, **kwargs}
    hmac_key = args.pop("hmac_key")
    with pytest.raises(ValueError):
        VerifiedKeyCache(hmac_key, **args)  # type: ignore[arg-type]


def test_cache_thread_safety() -> None:
    """Stay consistent and bounded under concurrent use."""
    cache = VerifiedKeyCache(HMAC_KEY, max_size=50)
    keys = [generate("production").plaintext for _ in range(200)]
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        """Exercise the shared object from one thread."""
        try:
            for i in range(2000):
                index = (i + offset) % len(keys)
                cache.put(keys[index], index)
                found = cache.get(keys[(index * 7) % len(keys)])
                assert found is None or found == (index * 7) % len(keys)
                if i % 97 == 0:
                    cache.discard_id(index)
        except BaseException as exc:  # collected so the main thread can fail loudly
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n * 13,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 50
    assert cache.hits + cache.misses == 8 * 2000


# --- last-used throttle -------------------------------------------------------------------


def test_throttle_once_per_minute() -> None:
    """Allow one write per key id per minute."""
    clock = FakeClock()
    throttle = LastUsedThrottle()
    assert throttle.should_write(1, clock()) is True
    clock.advance(30)
    assert throttle.should_write(1, clock()) is False
    assert throttle.should_write(2, clock()) is True  # independent per key id
    clock.advance(29.9)
    assert throttle.should_write(1, clock()) is False
    clock.advance(0.1)
    assert throttle.should_write(1, clock()) is True
    assert throttle.should_write(1, clock()) is False


def test_throttle_clock_going_backwards_allows_write() -> None:
    """Allow a write when the clock moves backwards."""
    throttle = LastUsedThrottle()
    assert throttle.should_write(1, 1000.0) is True
    assert throttle.should_write(1, 500.0) is True
    assert throttle.should_write(1, 510.0) is False


def test_throttle_bounded() -> None:
    """Remember at most max_size key ids."""
    throttle = LastUsedThrottle(max_size=3)
    for key_id in range(10):
        assert throttle.should_write(key_id, 0.0) is True
    assert len(throttle) == 3
    # An evicted id just gets one extra write; a remembered one is still throttled.
    assert throttle.should_write(0, 1.0) is True
    assert throttle.should_write(9, 1.0) is False


def test_throttle_rejects_bad_config() -> None:
    """Refuse non-positive interval and size."""
    with pytest.raises(ValueError):
        LastUsedThrottle(0)
    with pytest.raises(ValueError):
        LastUsedThrottle(max_size=0)


def test_throttle_thread_safety_single_winner() -> None:
    """Let exactly one of many concurrent callers write."""
    throttle = LastUsedThrottle()
    barrier = threading.Barrier(16)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        """Exercise the shared object from one thread."""
        barrier.wait()
        decision = throttle.should_write(42, 100.0)
        with lock:
            results.append(decision)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
