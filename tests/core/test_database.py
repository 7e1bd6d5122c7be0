"""SQLite is set up to be shared safely: WAL, foreign keys, a busy timeout."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import text

from portal import close_app, create_app
from portal.config import engine_options
from portal.extensions import db, limiter
from portal.jobs import job_queue
from portal.web import registry
from tests.support.apps import TEST_REDIS_URL, overrides


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_postgresql_connections_are_pinged_and_bounded_in_time(app: Flask) -> None:
    options = engine_options("postgresql+psycopg://u@h/db", {"DB_STATEMENT_TIMEOUT": 4.5})
    assert options["pool_pre_ping"] is True
    assert options["connect_args"]["connect_timeout"] == 3
    assert options["connect_args"]["options"] == "-c statement_timeout=4500"
    assert options["pool_size"] + options["max_overflow"] < 8  # gunicorn's threads
    assert options["pool_timeout"] <= 3
    assert "pool_pre_ping" not in engine_options("sqlite:///x.db")


def test_the_sqlite_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    app = create_app(overrides(f"sqlite:///{tmp_path / 'portal.db'}"))
    with app.app_context():
        db.session.execute(text("CREATE TABLE t (x INTEGER)"))
        db.session.commit()
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
        db.engine.dispose()
    assert modes["portal.db"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes


@pytest.mark.services
def test_postgresql_sessions_run_with_the_statement_timeout(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL setting")
        timeout = db.session.execute(text("SHOW statement_timeout")).scalar()
    assert timeout == "10s"


@pytest.mark.services
def test_close_app_closes_the_redis_pools_of_limits_and_jobs(database_url: str) -> None:
    """An app dropped in a process (tests, tools) leaves no Redis socket to the collector."""
    if not TEST_REDIS_URL:
        pytest.skip("needs TEST_REDIS_URL")
    watcher = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        before = len(watcher.client_list())
        app = create_app(overrides(database_url))
        app.extensions[registry.EXTENSION].limit_storage.incr("close-app-test", 60)
        limiter.storage.incr("close-app-test", 60)
        with app.app_context():
            assert job_queue().depth() == {"queued": 0, "scheduled": 0}
        opened = len(watcher.client_list())
        assert opened > before
        close_app(app)
        assert len(watcher.client_list()) <= before
    finally:
        watcher.close()
