"""API-key authentication and the per-key rate limit shared by every JSON API of the portal."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Response, current_app, g, request

from portal.api.errors import is_api_request, unauthorized
from portal.extensions import limiter
from portal.services.api_keys import ApiKeyRejected
from portal.web.access import authenticates_itself
from portal.web.registry import api_key_authenticator

F = TypeVar("F", bound=Callable)


def presented_key() -> str | None:
    """Return the key from `Authorization: Bearer <key>` or Basic with the key as user name.

    A client written for the vendor sends `Basic base64(apiKey:password)`: the password part
    is ignored.
    """
    # Only the header counts: keys in query strings end up in logs and browser histories.
    credentials = request.authorization
    if credentials is None:
        return None
    if credentials.type == "bearer":
        return credentials.token
    if credentials.type == "basic":
        return credentials.username
    return None


def api_rate_limit() -> str:
    """Return the per-key limit from configuration (e.g. "50 per second")."""
    return current_app.config["API_RATE_LIMIT"]


def _per_key() -> str:
    """Return the rate-limit bucket of the authenticated key (its row id, never the key)."""
    return f"api-key/{g.api_key.id}"


# One bucket per key across every API endpoint. Checked after authentication, so a stranger
# who knows a key's public id cannot spend its budget with made-up secrets.
per_key_limit = limiter.shared_limit(api_rate_limit, scope="api-key", key_func=_per_key)


def api_key_required(view: F) -> F:
    """Authenticate the request by API key (as `g.api_key`), else 401; then count its limit."""
    limited = per_key_limit(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            g.api_key = api_key_authenticator().authenticate(presented_key())
        except ApiKeyRejected:
            return unauthorized()
        return limited(*args, **kwargs)

    return authenticates_itself(wrapper)  # type: ignore[return-value]


def _until_reset(current) -> int:
    """Return the whole seconds until a limit's window resets (never more than the window)."""
    # The storage rounds the reset time up to a second: cap it at the window's length.
    return max(0, min(current.limit.get_expiry(), math.ceil(current.reset_at - time.time())))


def seconds_until_reset() -> int:
    """Return the seconds until the current request's rate-limit window resets (at least 1)."""
    current = limiter.current_limit
    return 1 if current is None else max(1, _until_reset(current))


def add_rate_limit_headers(response: Response) -> Response:
    """Tell API clients their budget: RateLimit-Limit, -Remaining and -Reset (seconds)."""
    current = limiter.current_limit if is_api_request() else None
    if current is not None:
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(max(0, current.remaining))
        response.headers["RateLimit-Reset"] = str(_until_reset(current))
    return response
