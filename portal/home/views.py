"""The landing page after sign-in."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Open the Connect area, where most work starts."""
    return redirect(url_for("connect.index"))
