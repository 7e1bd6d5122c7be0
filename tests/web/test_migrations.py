"""The migrations are the schema: one head, and no drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import Migrate

from portal.extensions import db

pytestmark = pytest.mark.services


def test_there_is_exactly_one_head(app: Flask) -> None:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_models_and_migrations_do_not_drift(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_every_table_comes_from_a_migration(app: Flask) -> None:
    assert isinstance(app.extensions["migrate"].migrate, Migrate)
    with app.app_context(), db.engine.connect() as connection:
        existing = set(db.inspect(connection).get_table_names())
    assert set(db.metadata.tables) <= existing
    assert "alembic_version" in existing
