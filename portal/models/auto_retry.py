"""FlexPay Retries: scheduler rules, at most one per company and environment."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, LabelledEnum, Timestamped
from portal.models.company import Company
from portal.models.environment import Environment, environment_check


class AutoRetryStatus(LabelledEnum):
    """Whether the scheduler retries the company's transactions in that environment."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class AutoRetry(Timestamped, Base):
    """An auto-retry rule; the schema allows one per (company, environment)."""

    __tablename__ = "auto_retries"
    __table_args__ = (
        UniqueConstraint("company_id", "environment"),
        CheckConstraint(environment_check(), name="environment"),
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    environment: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=AutoRetryStatus.ACTIVE.value)

    company: Mapped[Company] = relationship(lazy="joined")

    @property
    def environment_label(self) -> str:
        """Return "Production" or "Sandbox"."""
        return Environment(self.environment).label

    @property
    def status_label(self) -> str:
        """Return "Active" or "Inactive"."""
        return AutoRetryStatus(self.status).label

    @property
    def is_active(self) -> bool:
        """Tell whether the scheduler applies the rule."""
        return self.status == AutoRetryStatus.ACTIVE
