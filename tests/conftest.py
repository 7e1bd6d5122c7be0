"""Fixtures: an app on a migrated real database (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app
from portal.core import passwords
from portal.extensions import db
from tests import factories
from tests.support.apps import TEST_DATABASE_URL, fresh_app, overrides
from tests.support.fake_stripe import FakeStripe
from tests.support.web import sign_in


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of the test database, migrated to the newest revision."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"
    app = create_app(overrides(url))
    with app.app_context():
        if TEST_DATABASE_URL:
            # Start from an empty schema so the migrations themselves are what is tested.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """Return an app on the emptied test database."""
    yield from fresh_app(database_url)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    """Serve a fake Stripe on 127.0.0.1 (point STRIPE_API_BASE at `fake.base_url`)."""
    with FakeStripe() as server:
        yield server


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    """Run the test inside an application context (for service tests)."""
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client with cookies."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """Return a CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def login(app: Flask, client: FlaskClient):
    """Return a helper that creates a user of a role and signs the client in as them."""

    def _login(role: str = "admin", email: str | None = None):
        with app.app_context():
            factories.setup_account()
            user = factories.make_user(role=role, email=email)
            email_used, user_id = user.email, user.id
        response = sign_in(client, email_used)
        assert response.status_code == 303, response.get_data(as_text=True)
        return user_id

    return _login


@pytest.fixture
def default_password_costs(app: Flask) -> Iterator[None]:
    """Hash with argon2-cffi's default costs, as production does, for the length of a test."""
    passwords.configure(None, None, None)
    yield
    test = overrides("")
    passwords.configure(
        test["PASSWORD_HASH_TIME_COST"],
        test["PASSWORD_HASH_MEMORY_KIB"],
        test["PASSWORD_HASH_PARALLELISM"],
    )
