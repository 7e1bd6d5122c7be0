"""API-key authentication shared by every JSON API of the portal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import g, request

from portal.api.errors import INVALID_REQUEST, error_response, unauthorized
from portal.services.api_keys import ApiKeyRejected, ApiKeyThrottled
from portal.web.access import authenticates_itself
from portal.web.registry import api_key_authenticator

F = TypeVar("F", bound=Callable)


def presented_key() -> str | None:
    """Return the key from `Authorization: Bearer <key>` or Basic with the key as user name."""
    # Only the header counts: keys in query strings end up in logs and browser histories.
    credentials = request.authorization
    if credentials is None:
        return None
    if credentials.type == "bearer":
        return credentials.token
    if credentials.type == "basic":
        return credentials.username
    return None


def api_key_required(view: F) -> F:
    """Authenticate the request by API key and expose it as `g.api_key`, else answer 401."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            g.api_key = api_key_authenticator().authenticate(presented_key(), request.remote_addr)
        except ApiKeyRejected:
            return unauthorized()
        except ApiKeyThrottled as error:
            return error_response(
                429,
                INVALID_REQUEST,
                "Too many failed attempts with this key or from this address. Try again later.",
                headers={"Retry-After": str(error.retry_after)},
            )
        return view(*args, **kwargs)

    return authenticates_itself(wrapper)  # type: ignore[return-value]
