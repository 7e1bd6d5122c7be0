"""API keys: generate (shown once), list, delete, and authenticate presented keys."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, update

from portal.core import api_key_tokens as tokens
from portal.extensions import db
from portal.models import ApiKey, Company
from portal.models.base import utcnow
from portal.schemas.api_keys import ApiKeyInput
from portal.services import audit
from portal.services.actor import Actor
from portal.services.companies import company_from_list
from portal.services.errors import Conflict
from portal.services.listing import NEVER, Sort, order_by
from portal.services.listing import parse_sort as parse_sort_token
from portal.services.persistence import add_audited, get_or_not_found

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


def generate_api_key(actor: Actor, data: ApiKeyInput) -> NewApiKey:
    """Generate a key for a company and environment; only the argon2id hash is stored."""
    company = company_from_list(data.company_id)
    token = tokens.generate(data.environment)
    api_key = ApiKey(
        name=data.name,
        company_id=company.id,
        environment=data.environment,
        key_id=token.key_id,
        prefix=token.prefix,
        secret_hash=tokens.hash_secret(token.secret),
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
    audit.record(actor, "api_key.delete", api_key, changes={"key_id": api_key.prefix})
    db.session.delete(api_key)
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


class ApiKeyAuthenticator:
    """Authenticate presented keys; argon2 runs once per key per cache lifetime per process."""

    def __init__(
        self,
        *,
        cache_ttl: float = MAX_CACHE_TTL,
        cache_size: int = 1024,
        last_used_interval: float = 60.0,
    ) -> None:
        """Create the per-process cache of verified keys and the last-used throttle."""
        # A random per-process HMAC key: the cache never leaves the process, so nothing to share.
        self.cache = tokens.VerifiedKeyCache(
            secrets.token_bytes(32), max_size=cache_size, ttl=min(cache_ttl, MAX_CACHE_TTL)
        )
        self.last_used = tokens.LastUsedThrottle(interval=last_used_interval)
        self.last_used_interval = timedelta(seconds=last_used_interval)
        self._lock = threading.Lock()
        self.verifications = 0

    def authenticate(self, presented: str | None) -> AuthenticatedKey:
        """Return the key's identity, or raise ApiKeyRejected; the row is re-read every time."""
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
            row = self._load(_BY_KEY_ID, parsed.key_id)
            if row is None:
                raise ApiKeyRejected("unknown")
            # Only the secret is hashed, so a re-prefixed key must be refused here.
            if row.environment != parsed.environment:
                raise ApiKeyRejected("environment")
            with self._lock:
                self.verifications += 1
            if not tokens.verify_secret(row.secret_hash, parsed.secret):
                raise ApiKeyRejected("secret")
            self.cache.put(presented, row.id)
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
