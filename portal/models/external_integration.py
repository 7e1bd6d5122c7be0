"""External integrations: third-party services the platform itself uses, such as Stripe."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import ENCRYPTED, Base, Timestamped
from portal.models.user import User


class ExternalIntegration(Timestamped, Base):
    """A configured provider (Stripe) with its encrypted secret key and active flag."""

    __tablename__ = "external_integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    # Case-folded name: "Main" and "main" are the same integration, enforced by the schema.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    secret_ciphertext: Mapped[str] = mapped_column(Text, info=ENCRYPTED)
    # Display forms derived from the key when it is saved, so listing never decrypts secrets.
    secret_mask: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=False)
    last_verified_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
