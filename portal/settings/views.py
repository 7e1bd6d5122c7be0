"""Account Settings > Account settings: admins switch account-wide features on and off."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from portal.schemas.settings import AccountSettingsInput
from portal.services import account_settings
from portal.web.access import admin_required
from portal.web.actor import current_actor
from portal.web.forms import read, shown
from portal.web.responses import done

bp = Blueprint("settings", __name__, url_prefix="/account/settings")


@bp.get("/")
@admin_required
def index():
    """Show the account settings."""
    form = shown({"scheduler_enabled": account_settings.scheduler_enabled()})
    return render_template("settings/index.html", form=form)


@bp.post("/")
@admin_required
def update():
    """Save the account settings."""
    data = read(AccountSettingsInput).model or AccountSettingsInput()
    settings = account_settings.set_scheduler_enabled(current_actor(), data.scheduler_enabled)
    state = "on" if settings.scheduler_enabled else "off"
    return done(f"Account settings saved. The scheduler is {state}.", url_for("settings.index"))
