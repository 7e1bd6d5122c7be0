"""Probes, and a friendly 503 while the database is unreachable."""

from __future__ import annotations

from pathlib import Path

from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db
from tests.support.apps import overrides


def test_healthz_needs_nothing_and_readyz_checks_the_database(client) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["database"] == "ok"


def test_unreachable_database_gives_503_with_retry_after_then_recovers(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet" / "portal.db"
    app = create_app(overrides(f"sqlite:///{missing}"))
    client = app.test_client()

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["Retry-After"]
    page = client.get("/login")
    assert page.status_code == 503
    assert page.headers["Retry-After"]
    body = page.get_data(as_text=True)
    assert "cannot reach its database" in body
    assert "Traceback" not in body

    # The database comes back: the same process serves again, no restart.
    missing.parent.mkdir()
    with app.app_context():
        upgrade()
    assert client.get("/readyz").status_code == 200
    assert client.get("/login").status_code == 302  # no user yet: on to setup
    with app.app_context():
        db.engine.dispose()
