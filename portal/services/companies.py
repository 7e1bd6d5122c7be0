"""Companies: the account's business units."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.core.names import name_key
from portal.extensions import db
from portal.models import ApiKey, AutoRetry, Company, Customer
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


@dataclass(frozen=True)
class CompanyUsage:
    """What uses a company: while anything does, it cannot be deleted."""

    api_keys: int = 0
    auto_retries: int = 0
    customers: int = 0

    @property
    def in_use(self) -> bool:
        """Tell whether anything uses the company."""
        return bool(self.api_keys or self.auto_retries or self.customers)

    @property
    def reason(self) -> str:
        """Say what uses the company, e.g. "Used by 2 API keys and 1 customer."."""
        parts = [
            _count(self.api_keys, "API key", "API keys"),
            _count(self.auto_retries, "auto-retry", "auto-retries"),
            _count(self.customers, "customer", "customers"),
        ]
        named = [part for part in parts if part]
        if not named:
            return ""
        listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        return f"Used by {listed}."


def _count(number: int, one: str, many: str) -> str:
    """Return "1 customer", "3 customers", or "" for none."""
    return f"{number} {one if number == 1 else many}" if number else ""


def usage() -> dict[int, CompanyUsage]:
    """Return what uses each company in use, by company id (three grouped counts)."""
    counts: dict[int, dict[str, int]] = {}
    for field, model in (
        ("api_keys", ApiKey),
        ("auto_retries", AutoRetry),
        ("customers", Customer),
    ):
        query = select(model.company_id, func.count()).group_by(model.company_id)
        for company_id, number in db.session.execute(query):
            counts.setdefault(company_id, {})[field] = number
    return {company_id: CompanyUsage(**fields) for company_id, fields in counts.items()}


def usage_of(company: Company) -> CompanyUsage:
    """Return what uses one company."""
    return usage().get(company.id, CompanyUsage())


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
