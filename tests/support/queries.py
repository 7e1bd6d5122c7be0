"""Read what the tests check in the database: row counts and audit events."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent


def count(model) -> int:
    """Count the rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def events(action: str | None = None) -> list[AuditEvent]:
    """Return the audit events (of one action), oldest first."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))
