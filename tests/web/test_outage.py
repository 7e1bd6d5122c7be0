"""The database goes away or hangs: every page answers 503 at once, and nothing else breaks."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db
from tests import factories
from tests.support.apps import ENCRYPTION_KEY, TEST_DATABASE_URL, overrides
from tests.support.gunicorn import Gunicorn, get
from tests.support.tcp import BlackHole, TcpProxy
from tests.support.web import csrf_token, sign_in

PAGES = ("/connect/", "/account/integrations/", "/system/audit/", "/system/users/")
FRIENDLY = "The portal cannot reach its database right now."


def signed_in_client(database_url: str, *, migrate: bool):
    """Return an app on the database and a client signed in as an admin."""
    app = create_app(overrides(database_url))
    with app.app_context():
        if migrate:
            upgrade()
        factories.setup_account()
        email = factories.make_user("admin").email
        factories.enable_scheduler()
    client = app.test_client()
    assert sign_in(client, email).status_code == 303
    return app, client


def assert_outage(client, token: str) -> None:
    """Every page, and a form post, answers the friendly 503 with its headers."""
    answers = [client.get(page) for page in PAGES]
    answers.append(client.post("/account/companies/", data={"name": "Acme", "csrf_token": token}))
    for answer in answers:
        body = answer.get_data(as_text=True)
        assert answer.status_code == 503, body[:300]
        assert answer.headers["Retry-After"]
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert FRIENDLY in body and "Traceback" not in body


def test_signed_in_pages_answer_503_while_the_sqlite_file_is_gone(tmp_path: Path) -> None:
    home = tmp_path / "data"
    home.mkdir()
    app, client = signed_in_client(f"sqlite:///{home / 'portal.db'}", migrate=True)
    token = csrf_token(client, "/connect/")
    with app.app_context():
        db.engine.dispose()
    home.rename(tmp_path / "away")
    assert_outage(client, token)
    (tmp_path / "away").rename(home)
    assert client.get("/connect/").status_code == 200  # back without a restart
    with app.app_context():
        db.engine.dispose()


@pytest.mark.services
def test_signed_in_pages_answer_503_while_postgresql_is_unreachable(database_url: str) -> None:
    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        pytest.skip("PostgreSQL behind a proxy")
    url = make_url(database_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        app, client = signed_in_client(proxied.render_as_string(hide_password=False), migrate=False)
        token = csrf_token(client, "/connect/")
        proxy.cut()
        assert_outage(client, token)
        proxy.restore()
        assert client.get("/connect/").status_code == 200
        with app.app_context():
            db.engine.dispose()


def test_a_hanging_database_costs_seconds_and_healthz_keeps_answering() -> None:
    with BlackHole() as hole:
        env = {
            "DATABASE_URL": f"postgresql://portal@127.0.0.1:{hole.port}/portal",
            "PORTAL_SECRET_KEY": "outage-test-" + os.urandom(8).hex(),
            "PORTAL_ENCRYPTION_KEYS": ENCRYPTION_KEY,
            "PORTAL_API_KEY_PEPPER": "outage-test-pepper-" + os.urandom(8).hex(),
            "PORTAL_DB_CONNECT_TIMEOUT": "2",
        }
        with Gunicorn(env, "--workers", "1", "--threads", "8") as server:
            with ThreadPoolExecutor(max_workers=11) as pool:
                # Ten requests that need the database, all stuck on it at once.
                stuck = [pool.submit(get, server.port, "/login") for _ in range(10)]
                health = pool.submit(get, server.port, "/healthz")
                assert health.result()[0] == 200
                answers = [future.result() for future in stuck]
            ready = get(server.port, "/readyz")
    assert [status for status, _, _ in answers] == [503] * 10
    assert all("Retry-After" in headers for _, headers, _ in answers)
    assert ready[0] == 503 and "Retry-After" in ready[1]
