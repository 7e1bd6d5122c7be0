"""The Integrations Portal: a Flask + HTMX admin for a payment platform's integrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import cli, config, jobs
from portal.api.provisioning.views import bp as provisioning_bp
from portal.api.views import bp as api_bp
from portal.api_keys.views import bp as api_keys_bp
from portal.audit.views import bp as audit_bp
from portal.auth import loader
from portal.auth.views import bp as auth_bp
from portal.auto_retries.views import bp as auto_retries_bp
from portal.companies.views import bp as companies_bp
from portal.connect.views import bp as connect_bp
from portal.core import database, passwords
from portal.extensions import csrf, db, limiter, login_manager
from portal.external_integrations.views import bp as external_integrations_bp
from portal.flexcharge.views import bp as flexcharge_bp
from portal.flexcharge_webhooks.views import bp as flexcharge_webhooks_bp
from portal.health.views import bp as health_bp
from portal.home.views import bp as home_bp
from portal.settings.views import bp as settings_bp
from portal.users.views import bp as users_bp
from portal.web import (
    errors,
    flashes,
    htmx,
    observability,
    query,
    registry,
    security,
    templating,
)
from portal.web.access import require_login_by_default

ROOT = Path(__file__).resolve().parent.parent

# Registered in this order, which is the order of the URL map.
BLUEPRINTS = (
    auth_bp,
    health_bp,
    home_bp,
    users_bp,
    companies_bp,
    audit_bp,
    connect_bp,
    flexcharge_bp,
    api_keys_bp,
    auto_retries_bp,
    external_integrations_bp,
    settings_bp,
    api_bp,
    provisioning_bp,
    flexcharge_webhooks_bp,
)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: configure it, then run each named registration step."""
    app = Flask(
        __name__,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
        instance_relative_config=True,
    )
    app.config.from_mapping(config.load(app.instance_path, overrides))
    check_production(app)
    check_secrets(app)
    register_extensions(app)
    register_services(app)
    register_jobs(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def check_production(app: Flask) -> None:
    """In production mode, refuse to start without what several nodes need, naming it all."""
    mode = app.config["PORTAL_ENV"]
    if mode not in (config.DEVELOPMENT, config.PRODUCTION):
        raise RuntimeError(f"PORTAL_ENV must be {config.DEVELOPMENT!r} or {config.PRODUCTION!r}.")
    problems = config.production_problems(app.config) if mode == config.PRODUCTION else []
    if problems:
        raise RuntimeError(
            "PORTAL_ENV=production, but these settings are missing or unfit: "
            + "; ".join(problems)
            + '. See README.md, "Production set-up".'
        )


def close_app(app: Flask) -> None:
    """Close the app's connection pools: the database's, and the Redis pools of the limit
    storages and the job store (for tests and tools that build many apps in one process)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    # limits' RedisStorage keeps its client as `.storage`; memory:// has no pool to close.
    limit_storages = (limiter.storage, app.extensions[registry.EXTENSION].limit_storage)
    for storage in limit_storages:
        database.close_redis_pool(getattr(storage, "storage", None))
    app.extensions[jobs.EXTENSION].close()


def check_secrets(app: Flask) -> None:
    """Refuse to start without the secret key, encryption keys and API-key pepper."""
    missing = [key for key in config.INSTANCE_SECRETS if not app.config.get(key)]
    if missing:
        variables = ", ".join(f"PORTAL_{key}" for key in missing)
        raise RuntimeError(
            f"{', '.join(missing)} not configured: run `make run` once (it generates them into "
            f"{app.instance_path}) or set {variables}."
        )


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations, sign-in, CSRF and rate limiting to the app."""
    db.init_app(app)
    database.configure_engine_events()
    cli.defer_migrations(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    loader.configure(login_manager)
    csrf.init_app(app)
    limiter.init_app(app)
    app.session_interface = security.SessionInterface()
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_services(app: Flask) -> None:
    """Build the long-lived collaborators (secret box, throttle, key check, providers) once."""
    passwords.configure(
        app.config["PASSWORD_HASH_TIME_COST"],
        app.config["PASSWORD_HASH_MEMORY_KIB"],
        app.config["PASSWORD_HASH_PARALLELISM"],
    )
    registry.register_services(app)


def register_jobs(app: Flask) -> None:
    """Bind the background job queue (Huey) to the app; its store opens on first use."""
    jobs.register(app)


def register_blueprints(app: Flask) -> None:
    """Mount one blueprint per feature package; ids in routes are bounded (`<int:...>`)."""
    app.url_map.converters["int"] = query.IdConverter
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_request_hooks(app: Flask) -> None:
    """Give each request an id and a timer, deny anonymous access by default, add security
    headers and out-of-band flashes."""
    app.before_request(observability.start_request)
    app.after_request(observability.finish_request)
    app.before_request(require_login_by_default)
    app.after_request(flashes.append_flashes_to_htmx)
    app.after_request(htmx.add_vary_header)
    app.after_request(security.add_security_headers)


def register_errorhandlers(app: Flask) -> None:
    """Map HTTP errors, domain exceptions and an unreachable database to pages."""
    errors.register(app)


def register_template_helpers(app: Flask) -> None:
    """Expose navigation and formatting helpers to templates."""
    templating.register(app)


def register_commands(app: Flask) -> None:
    """Add the `flask` commands operators use."""
    cli.register(app)
