"""Build test apps: the configuration every test app starts from, and an emptied database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import text

from portal import close_app, create_app
from portal.extensions import db, limiter
from portal.models import CHAIN_HEAD_ID, GENESIS_HASH, AuditChainHead

#: Empty the FTS5 tables (SQLite) that the emptied tables feed.
EMPTY_SQLITE_SEARCH = ("INSERT INTO customers_search(customers_search) VALUES ('delete-all')",)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
ENCRYPTION_KEY = Fernet.generate_key().decode()


def overrides(database_url: str, **extra) -> dict:
    """Return the configuration every test app starts from."""
    return {
        # Test apps are development apps, whatever PORTAL_ENV the shell has.
        "PORTAL_ENV": "development",
        "SECRET_KEY": "test-secret-key-" + uuid.uuid4().hex,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "API_KEY_PEPPER": "test-pepper-" + uuid.uuid4().hex,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL or "memory://",
        # A fresh prefix per app keeps rate-limit counts of one test away from the next.
        "RATELIMIT_KEY_PREFIX": "test-" + uuid.uuid4().hex,
        # Still argon2id, at the lowest cost: hashing is tested for its parameters elsewhere,
        # and the default 64 MiB per hash would make every sign-in in the suite slow.
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 8,
        # Throttled API-key refusals are sent at once: the hold is tested where it is enabled.
        "API_KEY_THROTTLED_HOLD": 0.0,
        "PASSWORD_HASH_PARALLELISM": 1,
        # Tests run the queue's jobs themselves (run_jobs): in this process, or on Redis in
        # `make test-services`, each app on a queue of its own.
        "JOBS_STORE": TEST_REDIS_URL or "memory://",
        "JOBS_QUEUE_NAME": "test-" + uuid.uuid4().hex,
        # No real FlexCharge is ever called from a test: tests that need one start a fake.
        "FLEXCHARGE_SANDBOX_API_BASE": "http://127.0.0.1:9/sandbox/v1",
        "FLEXCHARGE_PRODUCTION_API_BASE": "http://127.0.0.1:9/production/v1",
        **extra,
    }


def empty_tables() -> None:
    """Delete every row, so each test starts from an empty database with a fresh audit chain.

    The audit trail refuses DELETE (triggers): PostgreSQL empties it with TRUNCATE, which row
    triggers do not see; SQLite drops its triggers for the moment and puts them back, and
    then empties the search tables those triggers would have kept in step.
    """
    tables = db.metadata.sorted_tables
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            triggers = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _ in triggers:
                connection.execute(text(f"DROP TRIGGER {name}"))
            for table in reversed(tables):
                connection.execute(table.delete())
            for _, sql in triggers:
                connection.execute(text(sql))
            for statement in EMPTY_SQLITE_SEARCH:
                connection.execute(text(statement))
        connection.execute(
            AuditChainHead.__table__.insert().values(
                id=CHAIN_HEAD_ID, last_id=0, last_hash=GENESIS_HASH
            )
        )


def fresh_app(database_url: str, **extra) -> Iterator[Flask]:
    """Yield an app on the emptied test database; tidy its connections afterwards."""
    app = create_app(overrides(database_url, **extra))
    with app.app_context():
        empty_tables()
        # The limiter is process-global; on Redis its counts would outlive the test.
        limiter.reset()
    yield app
    close_app(app)
