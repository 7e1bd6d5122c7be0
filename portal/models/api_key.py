"""API keys for the JSON APIs: only a hash of the secret is ever stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.company import Company
from portal.models.environment import Environment, environment_check


class ApiKey(Base):
    """A credential of one company and one environment; the key itself is shown once only."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(environment_check(), name="environment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # RESTRICT: a company that keys belong to cannot be deleted from under them.
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="RESTRICT"), index=True
    )
    # Its own column: the prefix of a presented key is never trusted to pick the environment.
    environment: Mapped[str] = mapped_column(String(16))
    # Public lookup id, part of the key; unique so a lookup finds at most one row.
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    # Non-secret start of the key ("ptl_live_" + key id), shown in the list.
    prefix: Mapped[str] = mapped_column(String(48))
    # argon2id PHC string of the secret part; the key cannot be rebuilt from it.
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Kept apart from the user row so the list still says who created a key after they go.
    created_by_label: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    company: Mapped[Company] = relationship(lazy="joined")

    @property
    def environment_label(self) -> str:
        """Return "Production" or "Sandbox"."""
        return Environment(self.environment).label
