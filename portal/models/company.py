"""Companies: the business units of the account."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, Timestamped

DEFAULT_COMPANY_NAME = "Default Company"


class Company(Timestamped, Base):
    """A business unit of the account; API keys, retries and customers belong to one."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Case-folded name: "acme" and "ACME" are the same company, enforced by the schema.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
