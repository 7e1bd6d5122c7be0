"""Input model of an API key: its name, company and environment."""

from __future__ import annotations

from portal.schemas.base import CompanyId, EnvironmentChoice, InputModel, name_text

NAME_MAX = 100


class ApiKeyInput(InputModel):
    """A new API key's name, company and environment."""

    name: name_text(NAME_MAX)
    company_id: CompanyId
    environment: EnvironmentChoice
