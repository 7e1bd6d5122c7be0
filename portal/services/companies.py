"""Companies: the account's business units."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Company
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, NotFound


def name_key(name: str) -> str:
    """Return the case-insensitive identity of a company name."""
    return " ".join(name.split()).casefold()


def list_companies() -> list[Company]:
    """Return every company, by name."""
    return list(db.session.scalars(select(Company).order_by(Company.name_key)))


def get_company(company_id: int) -> Company:
    """Return the company or raise NotFound."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound("That company does not exist.")
    return company


def _flush_unique(message: str) -> None:
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(message, field="name") from None


def create_company(actor: Actor, name: str) -> Company:
    """Add a company; names are unique regardless of case."""
    name = " ".join(name.split())
    company = Company(name=name, name_key=name_key(name))
    db.session.add(company)
    _flush_unique(f"A company named “{name}” already exists.")
    audit.record(actor, "company.create", company, changes={"name": name})
    db.session.commit()
    return company


def rename_company(actor: Actor, company: Company, name: str) -> Company:
    """Rename a company."""
    name = " ".join(name.split())
    changes = audit.diff({"name": company.name}, {"name": name})
    company.name = name
    company.name_key = name_key(name)
    _flush_unique(f"A company named “{name}” already exists.")
    audit.record(actor, "company.rename", company, changes=changes)
    db.session.commit()
    return company


def delete_company(actor: Actor, company: Company) -> None:
    """Delete a company that nothing uses; the schema refuses to orphan its dependants."""
    label = company.name
    audit.record(actor, "company.delete", company)
    db.session.delete(company)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            f"“{label}” is in use (API keys, retries or customers) and cannot be deleted."
        ) from None
    db.session.commit()
