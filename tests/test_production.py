"""Production mode: the portal refuses to start without what several nodes need, naming it all."""

from __future__ import annotations

import pytest
from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config, create_app
from portal.web.access import public
from tests.support.apps import ENCRYPTION_KEY

#: A complete production environment; nothing is contacted while the app is built.
VALID = {
    "PORTAL_ENV": "production",
    "DATABASE_URL": "postgresql://portal@db.internal:5432/portal",
    "RATELIMIT_STORAGE_URI": "redis://cache.internal:6379/0",
    "PORTAL_JOBS_STORE": "redis://cache.internal:6379/1",
    "PORTAL_SECRET_KEY": "production-secret-key-0123456789abcdef",
    "PORTAL_ENCRYPTION_KEYS": ENCRYPTION_KEY,
    "PORTAL_API_KEY_PEPPER": "production-pepper-0123456789abcdef",
    "PORTAL_TRUSTED_PROXIES": "1",
}
#: What the error names when each variable is absent.
NAMED = {
    "DATABASE_URL": "DATABASE_URL (a postgresql:// URL)",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI (a redis:// URL)",
    "PORTAL_JOBS_STORE": "PORTAL_JOBS_STORE (a redis:// URL)",
    "PORTAL_SECRET_KEY": "PORTAL_SECRET_KEY (from the environment",
    "PORTAL_ENCRYPTION_KEYS": "PORTAL_ENCRYPTION_KEYS (from the environment",
    "PORTAL_API_KEY_PEPPER": "PORTAL_API_KEY_PEPPER (from the environment",
    "PORTAL_TRUSTED_PROXIES": "PORTAL_TRUSTED_PROXIES (the number of proxies",
}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Start from an environment with none of the portal's variables, then the valid set."""
    for variable in config.ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in VALID.items():
        monkeypatch.setenv(variable, value)
    return monkeypatch


def refusal() -> str:
    """Return the message create_app() refuses to start with."""
    with pytest.raises(RuntimeError) as refused:
        create_app()
    return str(refused.value)


def test_a_complete_production_environment_starts(environ) -> None:
    app = create_app()
    assert app.config["PORTAL_ENV"] == "production"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["LOG_FORMAT"] == "json"
    assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_for == 1


@pytest.mark.parametrize("variable", sorted(NAMED))
def test_each_missing_setting_is_named(environ, variable: str) -> None:
    environ.delenv(variable)
    message = refusal()
    assert NAMED[variable] in message
    others = [text for name, text in NAMED.items() if name != variable]
    assert not any(text in message for text in others), message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "sqlite:////var/lib/portal/portal.db"),
        ("RATELIMIT_STORAGE_URI", "memory://"),
        ("PORTAL_JOBS_STORE", "sqlite:////var/lib/portal/jobs.db"),
        ("PORTAL_TRUSTED_PROXIES", "-1"),
    ],
)
def test_a_single_node_store_is_refused(environ, variable: str, value: str) -> None:
    environ.setenv(variable, value)
    message = refusal()
    assert NAMED[variable] in message
    assert value not in message  # URLs may hold passwords: never quoted


def test_everything_missing_is_named_at_once(environ) -> None:
    for variable in NAMED:
        environ.delenv(variable)
    message = refusal()
    assert all(text in message for text in NAMED.values()), message


def test_zero_trusted_proxies_is_an_explicit_choice(environ) -> None:
    environ.setenv("PORTAL_TRUSTED_PROXIES", "0")
    app = create_app()
    assert app.config["TRUSTED_PROXIES"] == 0
    assert not isinstance(app.wsgi_app, ProxyFix)


def test_production_never_reads_secrets_from_instance_files(environ, tmp_path) -> None:
    for name in config.INSTANCE_SECRETS.values():
        (tmp_path / name).write_text("a-secret-generated-on-one-node-only")
    for variable in ("PORTAL_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS", "PORTAL_API_KEY_PEPPER"):
        environ.delenv(variable)
    settings = config.load(str(tmp_path), None)
    assert not any(settings.get(key) for key in config.INSTANCE_SECRETS)
    assert len(config.production_problems(settings)) == 3
    environ.setenv("PORTAL_ENV", "development")
    assert all(config.load(str(tmp_path), None)[key] for key in config.INSTANCE_SECRETS)


def test_an_unknown_mode_is_refused(environ) -> None:
    environ.setenv("PORTAL_ENV", "prod")
    assert "PORTAL_ENV must be 'development' or 'production'" in refusal()


def test_the_configured_number_of_proxies_is_trusted(environ) -> None:
    environ.setenv("PORTAL_TRUSTED_PROXIES", "2")
    app = create_app()

    @app.get("/_client-address")
    @public
    def client_address():
        """Answer the address the portal sees."""
        return request.remote_addr or ""

    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9, 10.0.0.2"}
    answer = app.test_client().get("/_client-address", headers=forwarded)
    # Two proxies: the right-most address is the first proxy's, the next one is the client.
    assert answer.get_data(as_text=True) == "203.0.113.9"
