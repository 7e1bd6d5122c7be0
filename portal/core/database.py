"""Database engine set-up: SQLite pragmas that make the embedded database safe to share."""

from __future__ import annotations

import os
import sqlite3
import stat

from sqlalchemy import event
from sqlalchemy.engine import Engine

_configured = False


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        # WAL lets readers work while one request writes; the timeout waits for the lock.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        rows = cursor.execute("PRAGMA database_list").fetchall()
        cursor.close()
        for _, name, path in rows:
            if name == "main" and path:
                keep_private(path)


def keep_private(path: str) -> None:
    """Make the database file and its WAL companions readable by their owner only (0600)."""
    # The database holds password hashes, sessions and encrypted secrets.
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode != 0o600:
                os.chmod(name, 0o600)
        except FileNotFoundError:
            continue


def configure_engine_events() -> None:
    """Install the SQLite pragmas for every engine, once per process."""
    global _configured
    if not _configured:
        event.listen(Engine, "connect", _sqlite_pragmas)
        _configured = True


def close_redis_pool(client: object) -> None:
    """Close the sockets of a Redis client's pool (no-op for anything else); a later command
    opens new ones. Apps built and dropped in one process (tests, tools) call it, so sockets
    are not left for the garbage collector."""
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        pool.disconnect()
