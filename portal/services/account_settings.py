"""Account settings: switches that change what the whole account offers."""

from __future__ import annotations

from portal.extensions import db
from portal.models import SETTINGS_ID, AccountSettings
from portal.services import audit, setup
from portal.services.actor import Actor


def get_settings() -> AccountSettings | None:
    """Return the settings row (None before first-run setup)."""
    return db.session.get(AccountSettings, SETTINGS_ID)


def scheduler_enabled() -> bool:
    """Tell whether the account uses FlexPay's scheduler (the FlexPay Retries tab)."""
    settings = get_settings()
    return bool(settings and settings.scheduler_enabled)


def set_scheduler_enabled(actor: Actor, enabled: bool) -> AccountSettings:
    """Switch the scheduler on or off for the account."""
    settings = setup.ensure_account(actor)
    changes = audit.diff(
        {"scheduler_enabled": settings.scheduler_enabled}, {"scheduler_enabled": enabled}
    )
    if changes:
        settings.scheduler_enabled = enabled
        audit.record(
            actor, "settings.update", settings, object_label="Account settings", changes=changes
        )
    db.session.commit()
    return settings
