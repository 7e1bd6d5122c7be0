"""Account Settings > Integrations: API keys and FlexPay Retries (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("integrations", __name__, url_prefix="/account/integrations")


@bp.get("/")
def index():
    """Show the API keys tab."""
    return render_template(
        "placeholder.html",
        title="Integrations",
        description="API keys for the JSON APIs and FlexPay Retries will be managed here.",
    )
