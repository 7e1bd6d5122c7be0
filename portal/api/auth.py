"""API-key authentication and the per-key rate limit shared by every JSON API of the portal."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

from flask import Response, current_app, g, request
from limits import RateLimitItem, parse

from portal.api.errors import (
    INVALID_REQUEST,
    ApiError,
    api_error_response,
    is_api_request,
    rate_limited,
    unauthorized,
)
from portal.extensions import limiter
from portal.services.api_keys import ApiKeyRejected, ApiKeyThrottled
from portal.web.access import authenticates_itself
from portal.web.registry import api_key_authenticator, api_rate_limiter

F = TypeVar("F", bound=Callable)

# Flask-Limiter's limits (sign-in per address) are for pages. A request filter stops its
# per-request work at once for the APIs, where `limiter.exempt` would still resolve the
# endpoint's limits first; the APIs count their own limit per key, below.
limiter.request_filter(is_api_request)


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


@lru_cache(maxsize=8)
def _parsed(limit: str) -> RateLimitItem:
    """Return a limit string ("50 per second") parsed, once per distinct value."""
    return parse(limit)


def _over_limit(key_id: int) -> Response | None:
    """Count the request against its key's budget; return the 429 answer when it is spent.

    One fixed window per key across every API endpoint, in the rate-limit storage
    (RATELIMIT_STORAGE_URI: Redis in production, one round trip a request; see
    `portal.core.rate_limits`). It is counted after authentication, so a stranger who knows a
    key's public id cannot spend its budget with made-up secrets. The strategy is called
    directly rather than through `@limiter.limit`: the decorator's per-request bookkeeping
    cost about as much CPU as the rest of a getConnector request.
    """
    if not limiter.enabled:
        return None
    item = _parsed(current_app.config["API_RATE_LIMIT"])
    identity = (current_app.config["RATELIMIT_KEY_PREFIX"], "api-key", str(key_id))
    g.api_rate_limit = item
    counter = api_rate_limiter()
    if counter.hit(item, *identity):
        return None
    reset_at = counter.get_window_stats(item, *identity).reset_time
    # The storage rounds the reset up to a second: never promise more than the window.
    seconds = max(1, min(item.get_expiry(), math.ceil(reset_at - time.time())))
    response = rate_limited(seconds)
    response.headers["RateLimit-Remaining"] = "0"
    response.headers["RateLimit-Reset"] = str(seconds)
    return response


def api_key_required(view: F) -> F:
    """Authenticate the request by API key (as `g.api_key`), else 401; then count its limit."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            g.api_key = api_key_authenticator().authenticate(presented_key(), request.remote_addr)
        except ApiKeyRejected:
            return unauthorized()
        except ApiKeyThrottled as error:
            return api_error_response(
                ApiError(
                    429,
                    INVALID_REQUEST,
                    "Too many failed attempts with this key or from this address. Try again later.",
                    headers={"Retry-After": str(error.retry_after)},
                )
            )
        refused = _over_limit(g.api_key.id)
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    return authenticates_itself(wrapper)  # type: ignore[return-value]


def add_rate_limit_headers(response: Response) -> Response:
    """Tell API clients their budget: RateLimit-Limit on every answer counted against a key."""
    item = g.get("api_rate_limit")
    if item is not None:
        response.headers["RateLimit-Limit"] = str(item.amount)
    return response
