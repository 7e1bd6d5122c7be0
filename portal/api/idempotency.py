"""`Idempotency-Key` on the APIs' POSTs: the same key and body within a day run once.

A successful answer is stored (encrypted) and replayed, status and body, with
`Idempotent-Replayed: true`; the same key with another request is 1006; a request made while
the key's first request still runs waits for its answer (up to `API_IDEMPOTENCY_WAIT`
seconds, then 409). A refused (4xx) or failed (5xx) request gives the key back, so the
client may retry with the same key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Response, current_app, g, make_response, request

from portal.api.errors import (
    INVALID_FORMAT,
    NOT_APPLICABLE,
    ApiError,
    Problem,
    api_error_response,
)
from portal.services import idempotency
from portal.web.registry import secret_box

F = TypeVar("F", bound=Callable)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Visible ASCII only: the key is stored and compared as it is.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_POLL_SECONDS = 0.05


def _claimed_key() -> str | None:
    """Return the request's Idempotency-Key, or raise 1003 for a malformed one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        message = f"{HEADER}: 1 to 255 visible ASCII characters"
        raise ApiError(422, INVALID_FORMAT, message, [Problem(INVALID_FORMAT, "", message)])
    return key


def _replay(replay: idempotency.Replay) -> Response:
    """Send a stored answer again, marked as a replay."""
    response = Response(replay.body, replay.status, mimetype="application/json")
    response.headers[REPLAYED] = "true"
    return response


def _still_running() -> Response:
    """Answer a request whose key's first request has not finished in time."""
    message = f"{HEADER}: a request with this key is still running; retry in a moment"
    error = ApiError(409, NOT_APPLICABLE, message, [Problem(NOT_APPLICABLE, "", message)])
    return api_error_response(error)


def idempotent(view: F) -> F:
    """Run a POST once per (API key, Idempotency-Key) and replay its answer for a day."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            key = _claimed_key()
        except ApiError as error:
            return api_error_response(error)
        if key is None:
            return view(*args, **kwargs)
        box = secret_box()
        api_key_id = g.api_key.id
        fingerprint = idempotency.fingerprint(
            request.method, request.path, request.get_data(cache=True)
        )
        try:
            outcome = idempotency.begin(api_key_id, key, fingerprint, box)
            deadline = time.monotonic() + current_app.config["API_IDEMPOTENCY_WAIT"]
            while isinstance(outcome, idempotency.Pending):
                if time.monotonic() > deadline:
                    return _still_running()
                time.sleep(_POLL_SECONDS)
                outcome = idempotency.poll(api_key_id, key, fingerprint, box) or (
                    idempotency.begin(api_key_id, key, fingerprint, box)
                )
        except idempotency.KeyReused as error:
            message = error.message
            problem = Problem(NOT_APPLICABLE, "", message)
            return api_error_response(ApiError(422, NOT_APPLICABLE, message, [problem]))
        if isinstance(outcome, idempotency.Replay):
            return _replay(outcome)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            idempotency.abandon(outcome.entry_id)
            raise
        if 200 <= response.status_code < 300:
            idempotency.complete(
                outcome.entry_id, response.status_code, response.get_data(as_text=True), box
            )
        else:
            idempotency.abandon(outcome.entry_id)
        return response

    return wrapper  # type: ignore[return-value]
