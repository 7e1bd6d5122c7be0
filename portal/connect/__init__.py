"""Connect: customers, their integrations, and each integration's connections and flows."""

from flask import Blueprint

# One blueprint for the whole area; its views live in the *_views modules (see views.py).
bp = Blueprint("connect", __name__, url_prefix="/connect")
