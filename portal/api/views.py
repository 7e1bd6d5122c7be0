"""The JSON API, version 1: every endpoint authenticates by API key."""

from __future__ import annotations

import os

from flask import Response, current_app, g, jsonify

from portal.api import auth
from portal.api.blueprint import api_blueprint
from portal.web.registry import api_key_authenticator

bp = api_blueprint("api", __name__, "/api/v1")


@bp.after_request
def add_benchmark_headers(response: Response) -> Response:
    """In benchmarks, report this worker's argon2 count."""
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
