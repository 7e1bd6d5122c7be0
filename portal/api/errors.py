"""JSON error bodies: API clients never get an HTML page."""

from __future__ import annotations

import json

from flask import Response, request

API_PREFIX = "/api/"

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}

# One body for every refused key, built once, so the reasons cannot be told apart.
UNAUTHORIZED_BODY = json.dumps(
    {"error": {"code": "unauthorized", "message": "A valid API key is required."}},
    separators=(",", ":"),
)
CHALLENGES = ('Bearer realm="api"', 'Basic realm="api", charset="UTF-8"')


def is_api_request() -> bool:
    """Tell whether the request is addressed to a JSON API."""
    return request.path.startswith(API_PREFIX)


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Return an error as a JSON body with a stable code."""
    body = json.dumps(
        {"error": {"code": CODES.get(status, "error"), "message": message}},
        separators=(",", ":"),
    )
    response = Response(body, status=status, mimetype="application/json")
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def unauthorized() -> Response:
    """Refuse a request without a valid key: 401, the same body whatever the reason."""
    response = Response(UNAUTHORIZED_BODY, status=401, mimetype="application/json")
    for challenge in CHALLENGES:
        response.headers.add("WWW-Authenticate", challenge)
    response.headers["Cache-Control"] = "no-store"
    return response
