"""The migrations are the schema: one head, and no drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import Migrate, downgrade, upgrade
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from portal.models.search import include_object
from portal.web.registry import secret_box
from tests.support.apps import overrides

pytestmark = pytest.mark.services

#: A row for an older schema: its INSERT, with bound values when it has any.
Row = str | tuple[str, dict]


def test_there_is_exactly_one_head(app: Flask) -> None:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_models_and_migrations_do_not_drift(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        opts = {"compare_type": True, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, db.metadata) == []


def test_every_table_comes_from_a_migration(app: Flask) -> None:
    assert isinstance(app.extensions["migrate"].migrate, Migrate)
    with app.app_context(), db.engine.connect() as connection:
        existing = set(db.inspect(connection).get_table_names())
    assert set(db.metadata.tables) <= existing
    assert "alembic_version" in existing


def company_and_customer(customer_id: int, name: str) -> tuple[Row, Row]:
    """Return the rows of a company and of one customer of it, as SQL for an older schema."""
    return (
        "INSERT INTO companies (id, name, name_key, created_at, updated_at)"
        " VALUES (1, 'C', 'c', '2026-01-01', '2026-01-01')",
        (
            "INSERT INTO customers (id, public_id, name, name_key, company_id, created_at,"
            " updated_at) VALUES (:id, 'ME-1', :name, :name_key, 1, '2026-01-01', '2026-01-01')",
            {"id": customer_id, "name": name, "name_key": name.lower()},
        ),
    )


def upgrade_with_rows(revision: str, rows: tuple[Row, ...]) -> None:
    """Migrate to `revision`, insert the rows as that schema has them, then migrate to the head."""
    upgrade(revision=revision)
    with db.engine.begin() as connection:
        for row in rows:
            statement, values = (row, {}) if isinstance(row, str) else row
            connection.execute(text(statement), values)
    upgrade()


def test_0006_encrypts_connector_api_keys_and_downgrade_decrypts_them(tmp_path) -> None:
    """Upgrade 0005 -> 0006 encrypts plaintext connector API keys; downgrade decrypts them."""
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app(overrides(url))
    rows = (
        *company_and_customer(1, "c"),
        "INSERT INTO integrations (id, customer_id, name, name_key, network, network_key, type,"
        " created_at, updated_at) VALUES (1, 1, 'i', 'i', 'n', 'n', 'design',"
        " '2026-01-01', '2026-01-01')",
        "INSERT INTO connections (id, public_id, integration_id, name, name_key, enabled,"
        " adapter, method, api_key, shared_secret_encrypted, test_mode, extra_data,"
        " disabled_transaction_types,"
        " postback_format, scheduler_enabled, virtual_terminal_enabled, terminals, settings,"
        " created_at, updated_at) VALUES (1, 'CO-1', 1, 'conn', 'conn', 1, 'Simulator', 'cc',"
        " 'sim-connector-a', 'token', 0, '{}', '[]', 'inherit', 0, 0, '[]', '{}',"
        " '2026-01-01', '2026-01-01')",
        "INSERT INTO flows (id, integration_id, name, name_key, transaction_types,"
        " default_connection_id, re_route_recurring, retries, expiry_hours, created_at, updated_at)"
        " VALUES (1, 1, 'f', 'f', '[]', 1, 0, 0, 0, '2026-01-01', '2026-01-01')",
    )
    with app.app_context():
        upgrade_with_rows("0005", rows)
        with db.engine.connect() as connection:
            token = connection.execute(text("SELECT api_key_encrypted FROM connections")).scalar()
            assert "sim-connector-a" not in token
            assert secret_box().decrypt(token) == "sim-connector-a"
            # Nothing else was lost on the way (SQLite copies tables to alter them).
            assert connection.execute(text("SELECT count(*) FROM flows")).scalar() == 1
        downgrade(revision="0005")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT api_key FROM connections")).scalar() == (
                "sim-connector-a"
            )
            assert connection.execute(text("SELECT count(*) FROM flows")).scalar() == 1
        db.engine.dispose()


def test_0008_indexes_the_customers_already_there_and_downgrades_cleanly(tmp_path) -> None:
    """Upgrade 0007 -> 0008 back-fills the FTS5 table; downgrade removes it and its triggers."""
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app(overrides(url))
    rows = company_and_customer(7, "Zephyr Trading")
    fts = "SELECT rowid FROM customers_search WHERE customers_search MATCH '\"phyr\"'"
    search_objects = "SELECT count(*) FROM sqlite_master WHERE name LIKE 'customers_search%'"
    with app.app_context():
        upgrade_with_rows("0007", rows)
        with db.engine.connect() as connection:
            assert connection.execute(text(fts)).scalars().all() == [7]
        downgrade(revision="0007")
        with db.engine.connect() as connection:
            assert connection.execute(text(search_objects)).scalar() == 0
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text(fts)).scalars().all() == [7]
        db.engine.dispose()
