"""JSON error bodies of every API: seed 002's envelope, its error codes, and JSON pointers.

Every error is ``{"success": false, "errorCode": N, "errorMessage": "field: what is wrong",
"errors": [{"errorCode": N, "pointer": "/config/language", "message": "..."}]}``: clients branch
on ``errorCode``, never on the message, and fix every listed problem in one round. API clients
never get an HTML page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import Response, g, has_request_context, request

API_PREFIX = "/api/"

# Seed 002's error codes (reference B.1).
UNAUTHORIZED = 1000
INVALID_REQUEST = 1001
NOT_ALLOWED_VALUE = 1002
INVALID_FORMAT = 1003
INVALID_CHARACTERS = 1004
MISSING = 1005
NOT_APPLICABLE = 1006
NOT_FOUND = 1007
INTERNAL = 9999

#: The code an HTTP error answers with when nothing more precise is known.
CODE_BY_STATUS: Mapping[int, int] = {
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    500: INTERNAL,
    503: INTERNAL,
}

UNAUTHORIZED_MESSAGE = "A valid API key is required."
CHALLENGES = ('Bearer realm="api"', 'Basic realm="api", charset="UTF-8"')


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: its code, where it is (a JSON pointer), and what."""

    code: int
    pointer: str
    message: str

    def as_json(self) -> dict:
        """Return the problem as the ``errors`` list shows it."""
        return {"errorCode": self.code, "pointer": self.pointer, "message": self.message}


class ApiError(Exception):
    """A request the API refuses; the error handler turns it into the JSON envelope."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        problems: Iterable[Problem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.problems = list(problems)
        self.headers = dict(headers or {})


def is_api_request() -> bool:
    """Tell whether the request is addressed to a JSON API."""
    return request.path.startswith(API_PREFIX)


def envelope(code: int, message: str, problems: Iterable[Problem] = (), **extra) -> dict:
    """Return the body of an error answer."""
    return {
        "success": False,
        "errorCode": code,
        "errorMessage": message,
        "errors": [problem.as_json() for problem in problems],
        **extra,
    }


def api_error_response(error: ApiError, **extra) -> Response:
    """Answer a refused request: the envelope as JSON, never cached, with the request's id."""
    if has_request_context() and g.get("request_id"):
        extra.setdefault("requestId", g.request_id)
    body = json.dumps(
        envelope(error.code, error.message, error.problems, **extra), separators=(",", ":")
    )
    response = Response(body, status=error.status, mimetype="application/json")
    response.headers.update(error.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """Answer an HTTP error (unknown route, wrong method, outage) with the envelope."""
    code = CODE_BY_STATUS.get(status, INVALID_REQUEST)
    return api_error_response(ApiError(status, code, message, headers=headers))


# One body for every refused key, built once, so the reasons cannot be told apart.
UNAUTHORIZED_BODY = json.dumps(envelope(UNAUTHORIZED, UNAUTHORIZED_MESSAGE), separators=(",", ":"))


def unauthorized() -> Response:
    """Refuse a request without a valid key: 401, the same body whatever the reason."""
    response = Response(UNAUTHORIZED_BODY, status=401, mimetype="application/json")
    for challenge in CHALLENGES:
        response.headers.add("WWW-Authenticate", challenge)
    response.headers["Cache-Control"] = "no-store"
    return response


RATE_LIMITED_MESSAGE = "Too many requests with this API key: slow down, then retry."


def rate_limited(retry_after: int) -> Response:
    """Answer a request over the key's rate limit: 429 and Retry-After (no seed code applies)."""
    body = {"success": False, "errorMessage": RATE_LIMITED_MESSAGE, "errors": []}
    response = Response(json.dumps(body, separators=(",", ":")), 429, mimetype="application/json")
    response.headers["Retry-After"] = str(max(1, retry_after))
    response.headers["Cache-Control"] = "no-store"
    return response
