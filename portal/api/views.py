"""The JSON API, version 1: every endpoint authenticates by API key."""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, g, jsonify, request

from portal.api import auth
from portal.extensions import csrf, limiter
from portal.web.registry import api_key_authenticator

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# CSRF protects cookie-authenticated forms; this API never accepts the session cookie.
csrf.exempt(bp)
# Its limit is per API key, counted by `auth.api_key_required` after authentication.
limiter.exempt(bp)


@bp.before_request
def limit_body_size() -> None:
    """Refuse bodies larger than the API takes (413) before reading them."""
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]


@bp.after_request
def add_api_headers(response: Response) -> Response:
    """Keep API answers out of caches; in benchmarks, report this worker's argon2 count."""
    response.headers["Cache-Control"] = "no-store"
    auth.add_rate_limit_headers(response)
    if current_app.config["BENCHMARK"]:
        verifications = api_key_authenticator().verifications
        response.headers["X-Portal-Argon2-Verifications"] = f"{os.getpid()}:{verifications}"
    return response


@bp.get("/me")
@auth.api_key_required
def me():
    """Describe the key the request authenticated with, so integrators can test a key."""
    key = g.api_key
    return jsonify(
        name=key.name,
        key_prefix=key.prefix,
        company={"id": key.company_id, "name": key.company_name},
        environment=key.environment,
    )


# The transaction API registers its views on this blueprint.
from portal.api import transactions  # noqa: E402, F401
