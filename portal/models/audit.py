"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.models.base import Base, utcnow


class AuditEvent(Base):
    """Who did what to which object, when, from where, and how it ended."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The user row may go; the label keeps who it was.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64), index=True)
    object_id: Mapped[str | None] = mapped_column(String(64))
    object_label: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The hash chain: each event stores the hash of the one before it and its own, so a row
    # changed, removed or inserted behind the portal's back breaks the chain (verify-audit).
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """The one row that holds the newest event's hash; writers lock it to extend the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


#: The hash the first event links to.
GENESIS_HASH = "0" * 64
#: The primary key of the chain's one head row.
CHAIN_HEAD_ID = 1


class AuditTrailIsAppendOnly(Exception):
    """Raised when code tries to change or delete a recorded audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_rewrites(session: Session, flush_context, instances) -> None:
    """Refuse updates and deletes of audit events at the ORM level."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTrailIsAppendOnly("audit events cannot be changed or deleted")
