"""Configuration: defaults, then PORTAL_* environment variables, then explicit overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Environment variable -> (config key, parser). Documented in README.md.
ENVIRONMENT_VARIABLES: dict[str, tuple[str, Any]] = {
    "PORTAL_ENV": ("PORTAL_ENV", lambda v: v.strip().lower()),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "PORTAL_SECRET_KEY": ("SECRET_KEY", str),
    "PORTAL_ENCRYPTION_KEYS": ("ENCRYPTION_KEYS", str),
    "PORTAL_API_KEY_PEPPER": ("API_KEY_PEPPER", str),
    "PORTAL_API_KEY_FAILURES_PER_KEY": ("API_KEY_FAILURES_PER_KEY", str),
    "PORTAL_API_KEY_FAILURES_PER_CLIENT": ("API_KEY_FAILURES_PER_CLIENT", str),
    "PORTAL_API_KEY_THROTTLED_HOLD": ("API_KEY_THROTTLED_HOLD", float),
    "PORTAL_API_KEY_THROTTLED_HOLD_SLOTS": ("API_KEY_THROTTLED_HOLD_SLOTS", int),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "PORTAL_SESSION_IDLE_MINUTES": ("SESSION_IDLE_MINUTES", int),
    "PORTAL_SESSION_MAX_HOURS": ("SESSION_MAX_HOURS", int),
    "PORTAL_LOGIN_IP_LIMIT": ("LOGIN_IP_LIMIT", str),
    "PORTAL_TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "PORTAL_SECURE_COOKIES": ("SESSION_COOKIE_SECURE", lambda v: v.lower() in {"1", "true", "yes"}),
    "STRIPE_API_BASE": ("STRIPE_API_BASE", str),
    "PORTAL_STRIPE_TIMEOUT": ("STRIPE_TIMEOUT", float),
    "PORTAL_STRIPE_DEADLINE": ("STRIPE_DEADLINE", float),
    "PORTAL_API_KEY_CACHE_TTL": ("API_KEY_CACHE_TTL", float),
    "PORTAL_API_KEY_CACHE_SIZE": ("API_KEY_CACHE_SIZE", int),
    "PORTAL_BENCHMARK": ("BENCHMARK", lambda v: v.lower() in {"1", "true", "yes"}),
    "PORTAL_API_RATE_LIMIT": ("API_RATE_LIMIT", str),
    "PORTAL_API_MAX_BODY_BYTES": ("API_MAX_BODY_BYTES", int),
    "PORTAL_API_IDEMPOTENCY_WAIT": ("API_IDEMPOTENCY_WAIT", float),
    "PORTAL_LOG_FORMAT": ("LOG_FORMAT", str),
    "PORTAL_LOG_LEVEL": ("LOG_LEVEL", str),
    "PORTAL_METRICS_TOKEN": ("METRICS_TOKEN", str),
    "PORTAL_DB_CONNECT_TIMEOUT": ("DB_CONNECT_TIMEOUT", float),
    "PORTAL_DB_STATEMENT_TIMEOUT": ("DB_STATEMENT_TIMEOUT", float),
    "PORTAL_DB_POOL_SIZE": ("DB_POOL_SIZE", int),
    "PORTAL_DB_MAX_OVERFLOW": ("DB_MAX_OVERFLOW", int),
    "PORTAL_DB_POOL_TIMEOUT": ("DB_POOL_TIMEOUT", float),
    "FLEXCHARGE_SANDBOX_API_BASE": ("FLEXCHARGE_SANDBOX_API_BASE", str),
    "FLEXCHARGE_PRODUCTION_API_BASE": ("FLEXCHARGE_PRODUCTION_API_BASE", str),
    "PORTAL_FLEXCHARGE_TIMEOUT": ("FLEXCHARGE_TIMEOUT", float),
    "PORTAL_FLEXCHARGE_DEADLINE": ("FLEXCHARGE_DEADLINE", float),
    "PORTAL_JOBS_STORE": ("JOBS_STORE", str),
    "PORTAL_DELIVERY_MAX_ATTEMPTS": ("DELIVERY_MAX_ATTEMPTS", int),
    "PORTAL_DELIVERY_BACKOFF_SECONDS": ("DELIVERY_BACKOFF_SECONDS", float),
    "PORTAL_DELIVERY_STALE_SECONDS": ("DELIVERY_STALE_SECONDS", float),
}

DEVELOPMENT = "development"
PRODUCTION = "production"
#: Redis URLs of the rate-limit storage (limits) and of the job queue's store (Huey).
LIMITS_REDIS_SCHEMES = (
    "redis://",
    "rediss://",
    "redis+unix://",
    "redis+sentinel://",
    "redis+cluster://",
)
JOBS_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
ENCRYPTION_KEYS_FILE = "encryption_keys"
API_KEY_PEPPER_FILE = "api_key_pepper"
#: Configuration the portal refuses to start without, and the instance file each comes from.
INSTANCE_SECRETS = {
    "SECRET_KEY": SECRET_KEY_FILE,
    "ENCRYPTION_KEYS": ENCRYPTION_KEYS_FILE,
    "API_KEY_PEPPER": API_KEY_PEPPER_FILE,
}


def defaults(instance_path: str) -> dict[str, Any]:
    """Return the built-in defaults, which suit `make run` on one machine."""
    return {
        # "production" refuses to start without the settings several nodes need (README).
        "PORTAL_ENV": DEVELOPMENT,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(instance_path) / 'portal.db'}",
        "SECRET_KEY": None,
        "ENCRYPTION_KEYS": None,
        # Keys the API-key hashes (HMAC-SHA-256); kept outside the database.
        "API_KEY_PEPPER": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_KEY_PREFIX": "portal",
        "LOGIN_IP_LIMIT": "30 per minute",
        # Per-account throttle: after this many failures, back off exponentially up to the cap.
        "LOGIN_FAILURES_BEFORE_BACKOFF": 5,
        "LOGIN_BACKOFF_BASE_SECONDS": 30,
        "LOGIN_BACKOFF_MAX_SECONDS": 15 * 60,
        "SESSION_IDLE_MINUTES": 30,
        "SESSION_MAX_HOURS": 12,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "portal_session",
        "REMEMBER_COOKIE_DURATION": 0,
        # None: not configured (no proxy trusted); production wants a number, 0 included.
        "TRUSTED_PROXIES": None,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
        "STRIPE_API_BASE": "https://api.stripe.com",
        "STRIPE_TIMEOUT": 5.0,
        # However slowly Stripe answers, a save waits at most this long in all.
        "STRIPE_DEADLINE": 10.0,
        "AUDIT_PAGE_SIZE": 50,
        # "text" for people reading a terminal, "json" (one object a line) for log collectors.
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO",
        # Lets a Prometheus scraper read /metrics with `Authorization: Bearer <token>`.
        "METRICS_TOKEN": None,
        # Larger request bodies are refused (413) before anything reads them.
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # A database that is down or hangs must cost a request seconds, not minutes: connect
        # (SQLite: lock wait) and statement timeouts, and a short wait for a pooled connection.
        # The pool stays smaller than gunicorn's threads (8), so requests stuck on the database
        # never hold every thread and /healthz keeps answering.
        "DB_CONNECT_TIMEOUT": 3.0,
        "DB_STATEMENT_TIMEOUT": 10.0,
        "DB_POOL_SIZE": 4,
        "DB_MAX_OVERFLOW": 2,
        "DB_POOL_TIMEOUT": 2.0,
        # Verified API keys are trusted per process for at most this long (capped at 60 s).
        "API_KEY_CACHE_TTL": 60.0,
        "API_KEY_CACHE_SIZE": 1024,
        "API_KEY_LAST_USED_INTERVAL": 60.0,
        # Requests per API key over every JSON API endpoint (Flask-Limiter syntax).
        "API_RATE_LIMIT": "50 per second",
        # Larger JSON bodies are refused (413) before they are read.
        "API_MAX_BODY_BYTES": 512 * 1024,
        # How long a POST waits for the answer of a running request with its Idempotency-Key.
        "API_IDEMPOTENCY_WAIT": 10.0,
        # Failed API-key verifications allowed per key id and per client address (429 after).
        "API_KEY_FAILURES_PER_KEY": "10 per minute",
        "API_KEY_FAILURES_PER_CLIENT": "30 per minute",
        # Past those limits each refusal is held this many seconds before it is sent, at most
        # this many at once per process (each keeps one of gunicorn's 8 threads): a flood over
        # a few connections then sends a request per connection per second.
        "API_KEY_THROTTLED_HOLD": 1.0,
        "API_KEY_THROTTLED_HOLD_SLOTS": 4,
        # Benchmarks only: API answers report the worker's argon2 verification count.
        "BENCHMARK": False,
        # argon2id costs of new password hashes; None keeps argon2-cffi's RFC 9106 profile.
        # Only tests lower them, to keep the suite fast.
        "PASSWORD_HASH_TIME_COST": None,
        "PASSWORD_HASH_MEMORY_KIB": None,
        "PASSWORD_HASH_PARALLELISM": None,
        # FlexCharge (reference A.1): one base URL per environment, timeouts per call.
        "FLEXCHARGE_SANDBOX_API_BASE": "https://api-sandbox.flex-charge.com/v1",
        "FLEXCHARGE_PRODUCTION_API_BASE": "https://api.flex-charge.com/v1",
        "FLEXCHARGE_TIMEOUT": 5.0,
        "FLEXCHARGE_DEADLINE": 10.0,
        # The job queue's store: SQLite beside the database by default, or redis://...
        "JOBS_STORE": f"sqlite:///{Path(instance_path) / 'jobs.db'}",
        "JOBS_QUEUE_NAME": "portal",
        # Deliveries: attempts before "failed", the first retry's delay (doubling, with
        # jitter, capped at an hour), and how long a row may stay pending before the
        # periodic task enqueues it again.
        "DELIVERY_MAX_ATTEMPTS": 8,
        "DELIVERY_BACKOFF_SECONDS": 30.0,
        "DELIVERY_BACKOFF_MAX_SECONDS": 3600.0,
        "DELIVERY_STALE_SECONDS": 120.0,
        "REPORT_PAGE_SIZE": 50,
    }


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Return the settings given by environment variables."""
    settings: dict[str, Any] = {}
    for variable, (key, parse) in ENVIRONMENT_VARIABLES.items():
        value = environ.get(variable)
        if value:
            settings[key] = parse(value)
    return settings


def from_instance_files(instance_path: str) -> dict[str, Any]:
    """Return the secrets generated into the instance folder on first run."""
    settings: dict[str, Any] = {}
    for key, name in INSTANCE_SECRETS.items():
        path = Path(instance_path) / name
        if path.is_file():
            settings[key] = path.read_text().strip()
    return settings


def normalise_database_url(url: str) -> str:
    """Point plain postgres URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def engine_options(url: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return engine options for the database behind the URL, with its timeouts."""
    settings = {**defaults(""), **(settings or {})}
    if url.startswith("sqlite"):
        # sqlite3's timeout is how long a writer waits for the lock (busy timeout).
        return {"connect_args": {"timeout": max(settings["DB_CONNECT_TIMEOUT"], 5.0)}}
    statement_ms = int(settings["DB_STATEMENT_TIMEOUT"] * 1000)
    return {
        # Connections dropped by a database restart are replaced instead of failing a request.
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "pool_size": settings["DB_POOL_SIZE"],
        "max_overflow": settings["DB_MAX_OVERFLOW"],
        "pool_timeout": settings["DB_POOL_TIMEOUT"],
        "connect_args": {
            # libpq's connect_timeout is whole seconds, at least 2.
            "connect_timeout": max(2, round(settings["DB_CONNECT_TIMEOUT"])),
            "options": f"-c statement_timeout={statement_ms}",
        },
    }


def load(instance_path: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Merge defaults, instance files, environment and overrides, in rising precedence."""
    settings = defaults(instance_path)
    environment = from_environment(os.environ)
    overrides = overrides or {}
    mode = overrides.get("PORTAL_ENV", environment.get("PORTAL_ENV", DEVELOPMENT))
    if mode == PRODUCTION:
        # Secrets in one node's instance folder would differ from the next node's: production
        # takes them from the environment only, and logs JSON lines for the log collector.
        settings["LOG_FORMAT"] = "json"
    else:
        settings.update(from_instance_files(instance_path))
    settings.update(environment)
    # Explicit overrides (tests, embedding) win so an ambient shell cannot change them.
    settings.update(overrides)
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        settings["SQLALCHEMY_DATABASE_URI"]
    )
    if not settings["SQLALCHEMY_ENGINE_OPTIONS"]:
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            settings["SQLALCHEMY_DATABASE_URI"], settings
        )
    return settings


def production_problems(settings: dict[str, Any]) -> list[str]:
    """Name every setting production needs that is missing or unfit (empty when all is well).

    Several nodes share everything through PostgreSQL and Redis, and take their secrets from
    the environment; values are never quoted, as URLs may hold passwords.
    """
    problems = []
    if not settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        problems.append("DATABASE_URL (a postgresql:// URL)")
    if not str(settings["RATELIMIT_STORAGE_URI"]).startswith(LIMITS_REDIS_SCHEMES):
        problems.append("RATELIMIT_STORAGE_URI (a redis:// URL)")
    if not str(settings["JOBS_STORE"]).startswith(JOBS_REDIS_SCHEMES):
        problems.append("PORTAL_JOBS_STORE (a redis:// URL)")
    for key in INSTANCE_SECRETS:
        if not settings.get(key):
            problems.append(f"PORTAL_{key} (from the environment: instance files are not read)")
    proxies = settings["TRUSTED_PROXIES"]
    if proxies is None or proxies < 0:
        problems.append("PORTAL_TRUSTED_PROXIES (the number of proxies in front, 0 for none)")
    return problems
