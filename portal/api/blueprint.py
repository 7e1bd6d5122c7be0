"""What every JSON API blueprint shares: no CSRF, a per-key limit, a body cap, no caching."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from portal.api import auth
from portal.extensions import csrf, limiter


def limit_body_size() -> None:
    """Refuse bodies larger than the API takes (413) before reading them."""
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]


def add_api_headers(response: Response) -> Response:
    """Keep answers out of caches and tell the client its rate-limit budget."""
    response.headers["Cache-Control"] = "no-store"
    return auth.add_rate_limit_headers(response)


def api_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """Create a JSON API blueprint that authenticates by API key, never by session cookie."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    # CSRF protects cookie-authenticated forms; an API blueprint never accepts the session cookie.
    csrf.exempt(bp)
    # Its limit is per API key, counted by `auth.api_key_required` after authentication.
    limiter.exempt(bp)
    bp.before_request(limit_body_size)
    bp.after_request(add_api_headers)
    return bp
