"""Input model of a company: its name."""

from __future__ import annotations

from portal.schemas.base import InputModel, name_text

COMPANY_NAME_MAX = 100


class CompanyInput(InputModel):
    """A company's name; unique regardless of case (the schema's unique key says so)."""

    name: name_text(COMPANY_NAME_MAX)
