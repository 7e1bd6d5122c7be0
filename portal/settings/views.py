"""Account Settings > Account settings: admins switch account-wide features on and off."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, url_for

from portal.access import admin_required
from portal.htmx import hx_redirect
from portal.services import account_settings
from portal.settings.forms import AccountSettingsForm
from portal.viewutils import current_actor

bp = Blueprint("settings", __name__, url_prefix="/account/settings")


@bp.get("/")
@admin_required
def index():
    """Show the account settings."""
    form = AccountSettingsForm(scheduler_enabled=account_settings.scheduler_enabled())
    return render_template("settings/index.html", form=form)


@bp.post("/")
@admin_required
def update():
    """Save the account settings."""
    form = AccountSettingsForm()
    if not form.validate_on_submit():
        return render_template("settings/index.html", form=form), 422
    settings = account_settings.set_scheduler_enabled(current_actor(), form.scheduler_enabled.data)
    state = "on" if settings.scheduler_enabled else "off"
    flash(f"Account settings saved. The scheduler is {state}.", "success")
    return hx_redirect(url_for("settings.index"))
