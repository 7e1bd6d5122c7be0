"""API keys: generate (shown once), list, delete, and authenticate presented keys."""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from limits import RateLimitItem
from limits.strategies import RateLimiter
from sqlalchemy import bindparam, func, or_, select, update

from portal.core import api_key_tokens as tokens
from portal.core.metrics import API_KEY_THROTTLED
from portal.core.throttle import RefusalHold
from portal.extensions import db
from portal.models import ApiKey, Company
from portal.models.base import utcnow
from portal.schemas.api_keys import ApiKeyInput
from portal.services.actor import Actor
from portal.services.companies import company_from_list
from portal.services.errors import Conflict, Throttled
from portal.services.listing import NEVER, Sort, order_by
from portal.services.listing import parse_sort as parse_sort_token
from portal.services.persistence import add_audited, delete_audited, get_or_not_found

#: Deleting a key used this recently gets an extra warning: something still calls with it.
RECENT_USE = timedelta(days=7)
#: The verified-key cache never trusts a verification for longer than this.
MAX_CACHE_TTL = 60.0


@dataclass(frozen=True)
class NewApiKey:
    """A key just generated: the row, and the plaintext to show exactly once."""

    api_key: ApiKey
    # repr=False keeps the key out of logs and tracebacks that print the object.
    plaintext: str = field(repr=False)


#: The orders the list offers, each ending with the id so ties keep one order. A key never
#: used sorts as the oldest use.
SORTS = {
    "name": (func.lower(ApiKey.name), ApiKey.id),
    "company": (Company.name_key, ApiKey.id),
    "environment": (ApiKey.environment, ApiKey.id),
    "created": (ApiKey.id,),
    "last_used": (func.coalesce(ApiKey.last_used_at, NEVER), ApiKey.id),
}
DEFAULT_SORT = "-created"


def parse_sort(raw: str | None) -> Sort:
    """Read the list's sort from its URL token ("name", "-last_used"...)."""
    return parse_sort_token(raw, SORTS, DEFAULT_SORT)


def list_api_keys(sort: Sort | None = None) -> list[ApiKey]:
    """Return every API key in the sort's order (newest first by default)."""
    sort = sort or parse_sort(None)
    query = (
        select(ApiKey).join(ApiKey.company).order_by(*order_by(SORTS[sort.key], sort.descending))
    )
    return list(db.session.scalars(query))


def get_api_key(api_key_id: int) -> ApiKey:
    """Return the API key or raise NotFound."""
    return get_or_not_found(ApiKey, api_key_id, "That API key does not exist.")


def generate_api_key(actor: Actor, data: ApiKeyInput, pepper: bytes) -> NewApiKey:
    """Generate a key for a company and environment; only a keyed hash of it is stored."""
    company = company_from_list(data.company_id)
    token = tokens.generate(data.environment)
    api_key = ApiKey(
        name=data.name,
        company_id=company.id,
        environment=data.environment,
        key_id=token.key_id,
        prefix=token.prefix,
        secret_hash=tokens.hash_secret(token.secret, pepper),
        created_by_id=actor.user_id,
        created_by_label=actor.label,
    )
    # Two 71-bit random key ids colliding is not expected in practice; never reuse one.
    add_audited(
        actor,
        api_key,
        "api_key.generate",
        Conflict("The key could not be generated. Try again."),
        changes={
            "name": data.name,
            "company": company.name,
            "environment": data.environment,
            "key_id": token.prefix,
        },
    )
    db.session.commit()
    return NewApiKey(api_key=api_key, plaintext=token.plaintext)


def delete_api_key(actor: Actor, api_key: ApiKey) -> None:
    """Delete the key; every worker refuses it from the next request on."""
    gone = "That API key was deleted meanwhile."
    changes = {"key_id": api_key.prefix}
    delete_audited(actor, api_key, "api_key.delete", gone, changes=changes)
    db.session.commit()


def used_recently(api_key: ApiKey, now: datetime | None = None) -> bool:
    """Tell whether the key authenticated a request in the last seven days."""
    if api_key.last_used_at is None:
        return False
    return (now or utcnow()) - api_key.last_used_at <= RECENT_USE


# Built once: the hot path only binds a value. Plain columns skip ORM object loading.
_KEY_COLUMNS = select(
    ApiKey.id,
    ApiKey.key_id,
    ApiKey.name,
    ApiKey.prefix,
    ApiKey.environment,
    ApiKey.secret_hash,
    ApiKey.company_id,
    Company.name.label("company_name"),
).join(Company, Company.id == ApiKey.company_id)
_BY_ID = _KEY_COLUMNS.where(ApiKey.id == bindparam("value"))
_BY_KEY_ID = _KEY_COLUMNS.where(ApiKey.key_id == bindparam("value"))


@dataclass(frozen=True)
class AuthenticatedKey:
    """The API key behind a request: what later code scopes data by."""

    id: int
    name: str
    prefix: str
    company_id: int
    company_name: str
    environment: str


class ApiKeyRejected(Exception):
    """The presented key does not authenticate; the reason stays on the server."""


class ApiKeyThrottled(Throttled):
    """Too many failed verifications for this key id or client: try again later."""


@dataclass(frozen=True)
class FailureLimits:
    """How many failed verifications a key id and a client may cause, in the shared storage."""

    limiter: RateLimiter
    per_key_id: RateLimitItem
    per_client: RateLimitItem
    prefix: str = "portal"

    def _checks(self, key_id: str, client: str | None) -> list[tuple[RateLimitItem, str]]:
        checks = [(self.per_key_id, f"{self.prefix}/api-key-fail/id/{key_id}")]
        if client:
            checks.append((self.per_client, f"{self.prefix}/api-key-fail/client/{client}"))
        return checks

    def _wait(self, checks: list[tuple[RateLimitItem, str]]) -> int:
        """Return the seconds until every check allows another failure, 0 when all do."""
        waits = [
            max(1, math.ceil(self.limiter.get_window_stats(item, name).reset_time - time.time()))
            for item, name in checks
            if not self.limiter.test(item, name)
        ]
        return max(waits, default=0)

    def retry_after(self, key_id: str, client: str | None) -> int:
        """Return the seconds until the key id and client may fail again, 0 when they may."""
        return self._wait(self._checks(key_id, client))

    def key_id_reset_at(self, key_id: str) -> float | None:
        """Return when the key id's spent window ends (epoch seconds), None while it may fail."""
        [(item, name)] = self._checks(key_id, None)
        if self.limiter.test(item, name):
            return None
        return self.limiter.get_window_stats(item, name).reset_time

    def retry_after_client(self, client: str | None) -> int:
        """Return the seconds until the client may fail again, 0 when it may."""
        return self._wait(self._checks("", client)[1:])

    def failed(self, key_id: str, client: str | None) -> None:
        """Count a failed verification against the key id and the client."""
        for item, name in self._checks(key_id, client):
            self.limiter.hit(item, name)


@dataclass(frozen=True)
class ThrottledKeyId:
    """A key id past its failure limit, remembered per process: until when, and its row then."""

    reset_at: float
    secret_hash: str | None = field(repr=False)
    environment: str | None


class ApiKeyAuthenticator:
    """Authenticate presented keys cheaply, and refuse to be used to exhaust the server.

    Secrets are keyed hashes (HMAC-SHA-256 under the pepper), so a verification costs
    microseconds; an unknown key id costs the same HMAC. Failed verifications are limited per
    key id and per client (shared through the rate-limit storage) and remembered per process,
    and the legacy argon2 hashes of keys made before the keyed hash are verified at most
    ``legacy_concurrency`` at a time per process. While a key id is past its failure limit, its
    wrong secrets are refused from memory (a flood then costs no database or storage work), and
    every throttled refusal is held a while before it is sent (``hold``), which slows a flood
    down to a request per connection per hold.
    """

    def __init__(
        self,
        *,
        pepper: bytes,
        failure_limits: FailureLimits,
        cache_ttl: float = MAX_CACHE_TTL,
        cache_size: int = 1024,
        last_used_interval: float = 60.0,
        legacy_concurrency: int = 2,
        hold: RefusalHold | None = None,
    ) -> None:
        """Create the per-process caches of verified and failed keys and the last-used throttle."""
        if len(pepper) < 16:
            raise ValueError("the API-key pepper must be at least 16 bytes")
        self.pepper = pepper
        self.failure_limits = failure_limits
        # A random per-process HMAC key: the caches never leave the process, nothing to share.
        self.cache = tokens.VerifiedKeyCache(
            secrets.token_bytes(32), max_size=cache_size, ttl=min(cache_ttl, MAX_CACHE_TTL)
        )
        self.failures = tokens.VerifiedKeyCache(
            secrets.token_bytes(32), max_size=cache_size, ttl=MAX_CACHE_TTL
        )
        self.last_used = tokens.LastUsedThrottle(interval=last_used_interval)
        self.last_used_interval = timedelta(seconds=last_used_interval)
        self._legacy = threading.BoundedSemaphore(legacy_concurrency)
        self.hold = hold or RefusalHold(0, 0)
        self._lock = threading.Lock()
        # Key ids past their failure limit: when the window ends and the row as it was then.
        self._throttled: OrderedDict[str, ThrottledKeyId] = OrderedDict()
        self._throttled_size = cache_size
        self.verifications = 0
        self._dummy_hash = tokens.hash_secret("0" * tokens.SECRET_LENGTH, pepper)

    def authenticate(self, presented: str | None, client: str | None = None) -> AuthenticatedKey:
        """Return the key's identity, or raise ApiKeyRejected / ApiKeyThrottled.

        The key row is re-read by id on every request, so a deleted key is refused at once.
        """
        if not presented:
            raise ApiKeyRejected("missing")
        try:
            parsed = tokens.parse(presented)
        except tokens.MalformedKey:
            raise ApiKeyRejected("malformed") from None
        cached_id = self.cache.get(presented)
        if cached_id is not None:
            row = self._load(_BY_ID, cached_id)
            # Row ids can be reused after a delete (SQLite), so the key id must match too.
            if row is None or row.key_id != parsed.key_id:
                self.cache.discard_id(cached_id)
                raise ApiKeyRejected("deleted")
        else:
            try:
                row = self._verify(presented, parsed, client)
            except ApiKeyThrottled as error:
                held = self.hold.hold(error.retry_after)
                API_KEY_THROTTLED.labels(held="yes" if held else "no").inc()
                raise
        identity = AuthenticatedKey(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            company_id=row.company_id,
            company_name=row.company_name,
            environment=row.environment,
        )
        self._touch(row.id)
        return identity

    def _verify(self, presented: str, parsed: tokens.ParsedKey, client: str | None):
        """Verify a key not seen recently; count, remember and (past the limits) throttle failures.

        A noisy client is refused before any work. A key id under attack is refused before any
        work only while its row still holds a costly legacy hash: a keyed hash is checked in
        microseconds, so the key's real owner is never locked out by someone else's failures.
        Past its limit, the key id's wrong secrets are refused against this process's memory of
        its row, without reading the database or the limit storage again.
        """
        if self.failures.get(presented) is not None:
            raise ApiKeyRejected("failed recently")
        if retry_after := self.failure_limits.retry_after_client(client):
            raise ApiKeyThrottled(retry_after)
        if retry_after := self._refused_while_throttled(presented, parsed):
            raise ApiKeyThrottled(retry_after)
        row = self._load(_BY_KEY_ID, parsed.key_id)
        legacy = row is not None and tokens.is_legacy_hash(row.secret_hash)
        if legacy and (retry_after := self.failure_limits.retry_after(parsed.key_id, client)):
            self._remember_throttled(parsed.key_id, row)
            raise ApiKeyThrottled(retry_after)
        # Only the secret is hashed, so a re-prefixed key must be refused here.
        if row is None or row.environment != parsed.environment:
            # The same HMAC as a real check, so timing does not tell which key ids exist.
            tokens.verify_secret(self._dummy_hash, parsed.secret, self.pepper)
            valid = False
        else:
            valid = self._check_secret(row, parsed.secret)
        if not valid:
            self.failures.put(presented, 0)
            if retry_after := self.failure_limits.retry_after(parsed.key_id, client):
                self._remember_throttled(parsed.key_id, row)
                raise ApiKeyThrottled(retry_after)
            self.failure_limits.failed(parsed.key_id, client)
            raise ApiKeyRejected("secret")
        self.cache.put(presented, row.id)
        return row

    def _remember_throttled(self, key_id: str, row) -> None:
        """Note, in this process, until when the key id is past its failure limit, and its row."""
        reset_at = self.failure_limits.key_id_reset_at(key_id)
        if reset_at is None:  # the client's limit, not the key id's
            return
        entry = ThrottledKeyId(
            reset_at=reset_at,
            secret_hash=row.secret_hash if row is not None else None,
            environment=row.environment if row is not None else None,
        )
        with self._lock:
            self._throttled[key_id] = entry
            self._throttled.move_to_end(key_id)
            while len(self._throttled) > self._throttled_size:
                self._throttled.popitem(last=False)

    def _refused_while_throttled(self, presented: str, parsed: tokens.ParsedKey) -> int:
        """Return the Retry-After for a key the throttled key id's remembered row refuses, else 0.

        While a key id is past its failure limit, every key but the right one gets 429, so a
        flood of wrong secrets is answered from memory: no database read, no limit storage
        round trip. The right key is not refused here: it takes the full path, which re-reads
        the row (a deletion is honoured at once). The row's secret never changes; a key id
        that had no row when remembered is refused for the rest of the window (ids are random,
        71 bits: one generated meanwhile is not expected).
        """
        with self._lock:
            entry = self._throttled.get(parsed.key_id)
        if entry is None:
            return 0
        wait = math.ceil(entry.reset_at - time.time())
        if wait <= 0:
            with self._lock:
                if self._throttled.get(parsed.key_id) is entry:
                    del self._throttled[parsed.key_id]
            return 0
        if entry.secret_hash is not None and tokens.is_legacy_hash(entry.secret_hash):
            # As the full path does: no costly argon2 check while the key id is throttled.
            return wait
        if entry.secret_hash is not None and entry.environment == parsed.environment:
            if tokens.verify_secret(entry.secret_hash, parsed.secret, self.pepper):
                return 0
        else:
            # The same HMAC as a real check, so timing does not tell which key ids exist.
            tokens.verify_secret(self._dummy_hash, parsed.secret, self.pepper)
        self.failures.put(presented, 0)
        return wait

    def _check_secret(self, row, secret: str) -> bool:
        """Check the secret against the row's hash; move a legacy hash to the keyed hash."""
        with self._lock:
            self.verifications += 1
        if not tokens.is_legacy_hash(row.secret_hash):
            return tokens.verify_secret(row.secret_hash, secret, self.pepper)
        # argon2 costs 64 MiB and ~0.1 s: a few at a time, however many requests arrive.
        with self._legacy:
            valid = tokens.verify_secret(row.secret_hash, secret, self.pepper)
        if valid:
            db.session.execute(
                update(ApiKey)
                .where(ApiKey.id == row.id)
                .values(secret_hash=tokens.hash_secret(secret, self.pepper))
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        return valid

    def _load(self, statement, value):
        """Read the key's row from the database: every request, plain columns, Core execution."""
        return db.session.connection().execute(statement, {"value": value}).first()

    def _touch(self, api_key_id: int) -> None:
        """Write "last used" at most once a minute per key, across every worker."""
        if not self.last_used.should_write(api_key_id, time.monotonic()):
            return
        now = utcnow()
        # The condition makes the write a no-op when another worker wrote within the interval.
        db.session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == api_key_id,
                or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at <= now - self.last_used_interval,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
