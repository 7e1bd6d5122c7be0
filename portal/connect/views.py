"""Connect: customers, their integrations, connections and flows (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("connect", __name__, url_prefix="/connect")


@bp.get("/")
def index():
    """List customers."""
    return render_template(
        "placeholder.html",
        title="Connect",
        description="Customers, their integrations, connections and flows will be managed here.",
    )
