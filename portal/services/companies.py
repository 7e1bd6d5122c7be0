"""Companies: the account's business units."""

from __future__ import annotations

from sqlalchemy import select

from portal.core.names import name_key
from portal.extensions import db
from portal.models import Company
from portal.schemas.companies import CompanyInput
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, InvalidInput
from portal.services.persistence import (
    add_audited,
    delete_audited,
    get_or_not_found,
    unique_or_conflict,
)


def list_companies() -> list[Company]:
    """Return every company, by name."""
    return list(db.session.scalars(select(Company).order_by(Company.name_key)))


def get_company(company_id: int) -> Company:
    """Return the company or raise NotFound."""
    return get_or_not_found(Company, company_id, "That company does not exist.")


def company_from_list(company_id: int, field: str = "company_id") -> Company:
    """Return the chosen company, or refuse an id that is not one of the account's companies."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise InvalidInput("Choose a company from the list.", field=field)
    return company


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A company named “{name}” already exists.", field="name")


def create_company(actor: Actor, data: CompanyInput) -> Company:
    """Add a company; names are unique regardless of case."""
    company = Company(name=data.name, name_key=name_key(data.name))
    add_audited(
        actor, company, "company.create", _name_taken(data.name), changes={"name": data.name}
    )
    db.session.commit()
    return company


def rename_company(actor: Actor, company: Company, data: CompanyInput) -> Company:
    """Rename a company."""
    changes = audit.diff({"name": company.name}, {"name": data.name})
    company.name = data.name
    company.name_key = name_key(data.name)
    unique_or_conflict(_name_taken(data.name))
    audit.record(actor, "company.rename", company, changes=changes)
    db.session.commit()
    return company


def delete_company(actor: Actor, company: Company) -> None:
    """Delete a company that nothing uses; the schema refuses to orphan its dependants."""
    # The foreign keys RESTRICT: a company in use cannot go, however the race is timed.
    in_use = Conflict(
        f"“{company.name}” is in use (API keys, retries or customers) and cannot be deleted."
    )
    gone = "That company was deleted meanwhile."
    delete_audited(actor, company, "company.delete", gone, in_use=in_use)
    db.session.commit()
