"""The long-lived collaborators, built once from configuration and looked up by type.

``register_services`` runs in the app factory. Views, commands and background jobs fetch what
a service needs with the accessors below and pass it in: services never read ``current_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from portal.clients.flexcharge import FlexChargeClient
from portal.clients.stripe import StripeClient
from portal.core.crypto import SecretBox, parse_keys
from portal.core.rate_limits import InProcessFixedWindow, fixed_window
from portal.core.throttle import LoginThrottle, RefusalHold
from portal.services.api_keys import ApiKeyAuthenticator, FailureLimits
from portal.services.flexcharge_access import DeliveryPolicy, FlexCharge
from portal.services.providers import Provider, build_providers

EXTENSION = "portal.collaborators"


@dataclass(frozen=True)
class Collaborators:
    """What the app builds once: the secret box, the throttle, the key check, the API's
    per-key limit, the providers, and FlexCharge's client with its delivery policy."""

    secret_box: SecretBox
    login_throttle: LoginThrottle
    api_key_authenticator: ApiKeyAuthenticator
    api_rate_limiter: RateLimiter | InProcessFixedWindow
    providers: Mapping[str, Provider]
    flexcharge: FlexCharge
    #: The connection (pool) to the shared limit storage the throttle and key checks use.
    limit_storage: Storage


def build_flexcharge(config: Mapping, box: SecretBox) -> FlexCharge:
    """Build FlexCharge's client (both environments' base URLs) and the delivery policy."""
    client = FlexChargeClient(
        {
            "sandbox": config["FLEXCHARGE_SANDBOX_API_BASE"],
            "production": config["FLEXCHARGE_PRODUCTION_API_BASE"],
        },
        timeout=config["FLEXCHARGE_TIMEOUT"],
        deadline=config["FLEXCHARGE_DEADLINE"],
    )
    policy = DeliveryPolicy(
        max_attempts=max(1, config["DELIVERY_MAX_ATTEMPTS"]),
        backoff_seconds=config["DELIVERY_BACKOFF_SECONDS"],
        backoff_max_seconds=config["DELIVERY_BACKOFF_MAX_SECONDS"],
        stale_seconds=config["DELIVERY_STALE_SECONDS"],
        # A claim outlives any call (each ends within the deadline) by a wide margin.
        lease_seconds=max(60.0, 4 * config["FLEXCHARGE_DEADLINE"]),
    )
    return FlexCharge(client=client, box=box, policy=policy)


def build(config: Mapping) -> Collaborators:
    """Build every collaborator from the app's configuration."""
    # One connection (pool) to the shared limit storage: Redis in production. The options are
    # Flask-Limiter's setting, so both of the app's pools are configured alike.
    uri = config["RATELIMIT_STORAGE_URI"]
    storage = storage_from_string(uri, **config.get("RATELIMIT_STORAGE_OPTIONS", {}))
    box = SecretBox(parse_keys(config["ENCRYPTION_KEYS"]))
    return Collaborators(
        secret_box=box,
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
            hold=RefusalHold(
                config["API_KEY_THROTTLED_HOLD"], config["API_KEY_THROTTLED_HOLD_SLOTS"]
            ),
        ),
        api_rate_limiter=fixed_window(uri, storage),
        providers=build_providers(
            StripeClient(
                config["STRIPE_API_BASE"], config["STRIPE_TIMEOUT"], config["STRIPE_DEADLINE"]
            )
        ),
        flexcharge=build_flexcharge(config, box),
        limit_storage=storage,
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


def api_rate_limiter() -> RateLimiter | InProcessFixedWindow:
    """Return the fixed-window strategy that counts each API key's requests."""
    return collaborators().api_rate_limiter


def providers() -> Mapping[str, Provider]:
    """Return the providers an external integration can use, by slug."""
    return collaborators().providers


def api_key_pepper() -> bytes:
    """Return the server-side key of the API-key hashes."""
    return collaborators().api_key_authenticator.pepper


def flexcharge() -> FlexCharge:
    """Return FlexCharge's client, the secret box and the delivery policy."""
    return collaborators().flexcharge
