"""System > External Integrations: services the platform uses, such as Stripe (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.access import admin_required

bp = Blueprint("external_integrations", __name__, url_prefix="/system/external-integrations")


@bp.get("/")
@admin_required
def index():
    """List external integrations."""
    return render_template(
        "placeholder.html",
        title="External Integrations",
        description="Stripe and other services the platform uses will be managed here.",
    )
