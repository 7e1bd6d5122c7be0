"""Idempotency keys: the same POST with the same key within a day runs once and replays.

The unique (API key, Idempotency-Key) row decides which of two racing requests runs: the one
whose row went in first. The other finds the row pending and waits for its answer, or gets the
answer when it is already there. The answer is stored encrypted, since it may hold a shared
secret shown once. A request that failed on the server (5xx) gives its key back, so a retry runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from portal.core.crypto import SecretBox
from portal.extensions import db
from portal.models import IdempotencyKey
from portal.models.base import utcnow
from portal.services.errors import DomainError

#: How long a key's answer is replayed.
TTL = timedelta(hours=24)
PENDING = "pending"
DONE = "done"


class KeyReused(DomainError):
    """The Idempotency-Key was used within the day for another request."""


@dataclass(frozen=True)
class Started:
    """This request holds the key: run it, then complete or abandon the entry."""

    entry_id: int


@dataclass(frozen=True)
class Replay:
    """The key's first request has answered: send its answer again."""

    status: int
    body: str


class Pending:
    """The key's first request is still running."""


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Return the SHA-256 that tells one request from another: method, path and body."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _lookup(api_key_id: int, key: str, print_: str, box: SecretBox) -> Replay | Pending | None:
    """Return what became of an earlier request with this key, or None when there is none."""
    entry = db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.api_key_id == api_key_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at >= utcnow() - TTL,
        )
    )
    if entry is None:
        return None
    if entry.fingerprint != print_:
        raise KeyReused(
            "Idempotency-Key: already used within 24 hours for another request; "
            "use a new key for a new request."
        )
    if entry.state == DONE and entry.status is not None and entry.response_encrypted:
        return Replay(entry.status, box.decrypt(entry.response_encrypted))
    return Pending()


def begin(
    api_key_id: int, key: str, print_: str, box: SecretBox, now: datetime | None = None
) -> Started | Replay | Pending:
    """Claim the key for this request, or say what became of the request that claimed it."""
    now = now or utcnow()
    for _ in range(2):
        # The day is over for the key's old entries: forget them, so their keys can be reused.
        db.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.api_key_id == api_key_id, IdempotencyKey.created_at < now - TTL
            )
        )
        entry = IdempotencyKey(
            api_key_id=api_key_id, key=key, fingerprint=print_, state=PENDING, created_at=now
        )
        db.session.add(entry)
        try:
            db.session.commit()
            return Started(entry.id)
        except IntegrityError:
            db.session.rollback()
        found = _lookup(api_key_id, key, print_, box)
        if found is not None:
            return found
        # The holder gave the key back meanwhile: claim it again.
    return Pending()


def poll(api_key_id: int, key: str, print_: str, box: SecretBox) -> Replay | Pending | None:
    """Read the key's entry afresh (None: it was given back, so the caller may claim it)."""
    db.session.rollback()  # a new snapshot, and no stale objects from the last look
    return _lookup(api_key_id, key, print_, box)


def complete(entry_id: int, status: int, body: str, box: SecretBox) -> None:
    """Store the answer of the request that holds the key."""
    db.session.rollback()
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == entry_id)
        .values(state=DONE, status=status, response_encrypted=box.encrypt(body))
    )
    db.session.commit()


def abandon(entry_id: int) -> None:
    """Give the key back after a server failure, so the client's retry runs."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == entry_id))
    db.session.commit()
