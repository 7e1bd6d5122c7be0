"""Input model of the account settings."""

from __future__ import annotations

from portal.schemas.base import InputModel


class AccountSettingsInput(InputModel):
    """Account-wide switches."""

    scheduler_enabled: bool = False
