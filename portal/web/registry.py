"""The long-lived collaborators, built once from configuration and looked up by type.

``register_services`` runs in the app factory. Views, commands and background jobs fetch what
a service needs with the accessors below and pass it in: services never read ``current_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from portal.clients.stripe import StripeClient
from portal.core.crypto import SecretBox, parse_keys
from portal.core.throttle import LoginThrottle
from portal.services.api_keys import ApiKeyAuthenticator, FailureLimits
from portal.services.providers import Provider, build_providers

EXTENSION = "portal.collaborators"


@dataclass(frozen=True)
class Collaborators:
    """What the app builds once: the secret box, the throttle, the key check, the providers."""

    secret_box: SecretBox
    login_throttle: LoginThrottle
    api_key_authenticator: ApiKeyAuthenticator
    providers: Mapping[str, Provider]


def build(config: Mapping) -> Collaborators:
    """Build every collaborator from the app's configuration."""
    # One connection (pool) to the shared limit storage: Redis in production.
    storage = storage_from_string(config["RATELIMIT_STORAGE_URI"])
    return Collaborators(
        secret_box=SecretBox(parse_keys(config["ENCRYPTION_KEYS"])),
        login_throttle=LoginThrottle(
            storage=storage,
            failures_before_backoff=config["LOGIN_FAILURES_BEFORE_BACKOFF"],
            base_seconds=config["LOGIN_BACKOFF_BASE_SECONDS"],
            max_seconds=config["LOGIN_BACKOFF_MAX_SECONDS"],
            prefix=config["RATELIMIT_KEY_PREFIX"],
        ),
        api_key_authenticator=ApiKeyAuthenticator(
            pepper=config["API_KEY_PEPPER"].encode(),
            failure_limits=FailureLimits(
                limiter=FixedWindowRateLimiter(storage),
                per_key_id=parse(config["API_KEY_FAILURES_PER_KEY"]),
                per_client=parse(config["API_KEY_FAILURES_PER_CLIENT"]),
                prefix=config["RATELIMIT_KEY_PREFIX"],
            ),
            cache_ttl=config["API_KEY_CACHE_TTL"],
            cache_size=config["API_KEY_CACHE_SIZE"],
            last_used_interval=config["API_KEY_LAST_USED_INTERVAL"],
        ),
        providers=build_providers(
            StripeClient(
                config["STRIPE_API_BASE"], config["STRIPE_TIMEOUT"], config["STRIPE_DEADLINE"]
            )
        ),
    )


def register_services(app: Flask) -> None:
    """Build the collaborators once and keep them on the app."""
    app.extensions[EXTENSION] = build(app.config)


def collaborators() -> Collaborators:
    """Return the current app's collaborators."""
    return current_app.extensions[EXTENSION]


def secret_box() -> SecretBox:
    """Return the box that encrypts and decrypts third-party secrets."""
    return collaborators().secret_box


def login_throttle() -> LoginThrottle:
    """Return the per-account sign-in throttle."""
    return collaborators().login_throttle


def api_key_authenticator() -> ApiKeyAuthenticator:
    """Return the API-key authenticator with its per-process cache of verified keys."""
    return collaborators().api_key_authenticator


def providers() -> Mapping[str, Provider]:
    """Return the providers an external integration can use, by slug."""
    return collaborators().providers


def api_key_pepper() -> bytes:
    """Return the server-side key of the API-key hashes."""
    return collaborators().api_key_authenticator.pepper
