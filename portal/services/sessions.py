"""Server-side sessions: revocable on sign-out, deactivation and password change."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from portal.extensions import db
from portal.models import User, UserSession
from portal.models.base import utcnow

# Writing last_seen on every request would turn every page view into a write.
TOUCH_INTERVAL = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, *, ip: str | None, user_agent: str | None) -> str:
    """Create a session for the user and return the token for the cookie (not committed)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=_hash(token),
            user=user,
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    return token


def resolve(
    token: str | None, *, idle: timedelta, lifetime: timedelta, now: datetime | None = None
) -> User | None:
    """Return the active user behind a live session token, ending sessions that timed out."""
    if not token:
        return None
    now = now or utcnow()
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if row is None:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > lifetime or not row.user.active:
        db.session.delete(row)
        db.session.commit()
        return None
    if now - row.last_seen_at > TOUCH_INTERVAL:
        db.session.execute(
            update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
        )
        db.session.commit()
    return row.user


def end(token: str | None) -> None:
    """Delete the session behind the token (not committed)."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash(token)))


def end_all(user: User, *, except_token: str | None = None) -> None:
    """Delete every session of the user, optionally keeping the current one (not committed)."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if except_token:
        query = query.where(UserSession.token_hash != _hash(except_token))
    db.session.execute(query)
