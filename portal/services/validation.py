"""Checks several services share: names, companies chosen from the list, environments."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Company, Environment
from portal.services.errors import InvalidInput

NAME_MAX_LENGTH = 100


def clean_name(name: str | None, field: str = "name") -> str:
    """Return the name with its spaces tidied, or refuse an empty or over-long one."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Enter a name.", field=field)
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Name must be at most {NAME_MAX_LENGTH} characters.", field=field)
    return name


def company_from_list(company_id: int | str | None, field: str = "company") -> Company:
    """Return the chosen company, or refuse an id that is not one of the account's companies."""
    try:
        company = db.session.get(Company, int(company_id))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        company = None
    if company is None:
        raise InvalidInput("Choose a company from the list.", field=field)
    return company


def check_environment(value: str | None, field: str = "environment") -> Environment:
    """Return the environment, or refuse anything but Production and Sandbox."""
    try:
        return Environment(value)
    except ValueError:
        raise InvalidInput("Choose Production or Sandbox.", field=field) from None
