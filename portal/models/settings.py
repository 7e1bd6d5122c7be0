"""Account-wide settings: one row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, Timestamped

SETTINGS_ID = 1


class AccountSettings(Timestamped, Base):
    """Settings of the whole account; its single row also marks first-run setup as done."""

    __tablename__ = "account_settings"

    # Always 1: inserting a second row fails, which serialises concurrent first-run setups.
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    setup_completed_at: Mapped[datetime]
    scheduler_enabled: Mapped[bool] = mapped_column(default=False)
