"""Input models of an auto-retry (a FlexPay Retries rule)."""

from __future__ import annotations

from portal.models import AutoRetryStatus
from portal.schemas.base import CompanyId, EnvironmentChoice, InputModel, choice, name_text

NAME_MAX = 100

StatusChoice = choice((status.value for status in AutoRetryStatus), "Choose Active or Inactive.")


class AutoRetryChange(InputModel):
    """What can change on an existing auto-retry: its name and status."""

    name: name_text(NAME_MAX)
    status: StatusChoice


class AutoRetryInput(AutoRetryChange):
    """A new auto-retry's name, company, environment and status."""

    company_id: CompanyId
    environment: EnvironmentChoice
