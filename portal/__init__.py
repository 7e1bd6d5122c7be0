"""The Integrations Portal: a Flask + HTMX admin for a payment platform's integrations."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config

# The blueprints the portal serves, by package name (each package exposes `bp`).
BLUEPRINTS = (
    "auth",
    "health",
    "home",
    "users",
    "companies",
    "audit",
    "connect",
    "integrations",
    "external_integrations",
    "settings",
    "api",
)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: configure it, then run each named registration step."""
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        static_folder=str(root / "static"),
        template_folder=str(root / "templates"),
        instance_relative_config=True,
    )
    app.config.from_mapping(config.load(app.instance_path, overrides))
    check_secrets(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def check_secrets(app: Flask) -> None:
    """Refuse to start without the secret key and encryption keys."""
    missing = [key for key in ("SECRET_KEY", "ENCRYPTION_KEYS") if not app.config.get(key)]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not configured: run `make run` once (it generates them into "
            f"{app.instance_path}) or set PORTAL_SECRET_KEY and PORTAL_ENCRYPTION_KEYS."
        )


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations, sign-in, CSRF and rate limiting to the app."""
    from portal import auth_loader, database
    from portal.extensions import csrf, db, limiter, login_manager, migrate
    from portal.security import SessionInterface

    db.init_app(app)
    database.configure_engine_events()
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    auth_loader.configure(login_manager)
    csrf.init_app(app)
    limiter.init_app(app)
    app.session_interface = SessionInterface()
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_blueprints(app: Flask) -> None:
    """Mount one blueprint per feature package."""
    from importlib import import_module

    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"portal.{name}.views").bp)


def register_request_hooks(app: Flask) -> None:
    """Deny anonymous access by default, add security headers and out-of-band flashes."""
    from portal.access import require_login_by_default
    from portal.flashes import append_flashes_to_htmx
    from portal.htmx import add_vary_header
    from portal.security import add_security_headers

    app.before_request(require_login_by_default)
    app.after_request(append_flashes_to_htmx)
    app.after_request(add_vary_header)
    app.after_request(add_security_headers)


def register_errorhandlers(app: Flask) -> None:
    """Map HTTP errors, domain exceptions and an unreachable database to pages."""
    from portal.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    """Expose navigation and formatting helpers to templates."""
    from portal.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    """Add the `flask` commands operators use."""
    from portal.cli import register

    register(app)
