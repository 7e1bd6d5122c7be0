"""Idempotency keys of the JSON APIs: one answer per (API key, Idempotency-Key) for a day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import ENCRYPTED, Base, utcnow


class IdempotencyKey(Base):
    """A POST made with an Idempotency-Key: its fingerprint and, once done, its answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        # The schema decides which of two racing requests runs: the one whose row went in.
        UniqueConstraint("api_key_id", "key"),
        CheckConstraint("state IN ('pending', 'done')", name="state"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    status: Mapped[int | None] = mapped_column()
    # The answer may hold a generated shared secret shown once: encrypted like every secret.
    response_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
