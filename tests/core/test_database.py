"""SQLite is set up to be shared safely: WAL, foreign keys, a busy timeout."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from portal.extensions import db


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_postgresql_connections_are_pinged_before_use(app: Flask) -> None:
    from portal.config import engine_options

    assert engine_options("postgresql+psycopg://u@h/db")["pool_pre_ping"] is True
    assert "pool_pre_ping" not in engine_options("sqlite:///x.db")
