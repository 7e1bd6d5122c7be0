"""Users who sign in, and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, LabelledEnum, Timestamped, utcnow


class Role(LabelledEnum):
    """What a user may do: admins configure the system, editors change data, viewers read."""

    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class User(Timestamped, UserMixin, Base):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so uniqueness is case-insensitive in the schema itself.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.VIEWER.value)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:
        """Tell Flask-Login whether the account may sign in."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """Tell whether the user has system configuration privileges."""
        return self.role == Role.ADMIN

    def has_role(self, *roles: str) -> bool:
        """Tell whether the user holds one of the roles."""
        return self.role in roles


class UserSession(Base):
    """A signed-in browser; deleting the row signs that browser out everywhere."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the token in the cookie: a database dump cannot be replayed as a session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(back_populates="sessions")
