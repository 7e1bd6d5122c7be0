"""API-key authentication shared by every JSON API of the portal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Blueprint, current_app, g, request

from portal.access import authenticates_itself
from portal.api.errors import unauthorized
from portal.services.api_keys import ApiKeyAuthenticator, ApiKeyRejected

F = TypeVar("F", bound=Callable)

EXTENSION = "portal.api_key_authenticator"


def install(blueprint: Blueprint) -> None:
    """Give each app that registers the blueprint its own in-process authenticator."""

    def _create(state) -> None:
        """Create the authenticator from the app's configuration."""
        config = state.app.config
        state.app.extensions[EXTENSION] = ApiKeyAuthenticator(
            cache_ttl=config["API_KEY_CACHE_TTL"],
            cache_size=config["API_KEY_CACHE_SIZE"],
            last_used_interval=config["API_KEY_LAST_USED_INTERVAL"],
        )

    blueprint.record_once(_create)


def authenticator() -> ApiKeyAuthenticator:
    """Return the app's authenticator."""
    return current_app.extensions[EXTENSION]


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
            g.api_key = authenticator().authenticate(presented_key())
        except ApiKeyRejected:
            return unauthorized()
        return view(*args, **kwargs)

    return authenticates_itself(wrapper)  # type: ignore[return-value]
