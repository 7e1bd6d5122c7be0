"""The job queue: a Huey instance bound to one app, with the portal's tasks registered on it.

Huey (huey.readthedocs.io) runs on an embedded SQLite store with no extra service, which suits
``make run`` on one machine, and on Redis for several workers on several hosts; both keep
queued and scheduled tasks across restarts. The tasks carry only a delivery's id: what must be
delivered lives in the database (the outbox), never in the job store.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from portal import config
from portal.core.database import close_redis_pool
from portal.jobs import tasks

if TYPE_CHECKING:
    from huey import Huey

#: How often the periodic task looks for rows left pending or abandoned: every minute (cron
#: fields, Huey's finest grain).
REQUEUE_EVERY = {"minute": "*"}


def make_huey(store: str, name: str) -> Huey:
    """Return a Huey instance on the configured store (sqlite:///path, redis://..., memory://)."""
    # Huey's storage module imports redis and psycopg whenever they are installed (17 MB and
    # 0.1 s per web worker, measured): load it when a job is first enqueued or run, not at start.
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    if store.startswith(config.JOBS_REDIS_SCHEMES):
        return RedisHuey(name, url=store, results=False)
    if store == "memory://":
        # Tests only: a store inside this process that the test drives itself.
        return MemoryHuey(name, results=False)
    if store.startswith("sqlite:///"):
        path = Path(store.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, timeout=15)
    raise ValueError("PORTAL_JOBS_STORE must start with sqlite:///, redis:// or memory://")


class JobQueue:
    """The app's Huey instance and its tasks, created on first use."""

    def __init__(self, app: Flask, store: str, name: str) -> None:
        """Remember the app and the store; nothing is opened until a job is enqueued."""
        self.app = app
        self.store = store
        self.name = name
        self._lock = threading.Lock()
        self._huey: Huey | None = None

    @property
    def huey(self) -> Huey:
        """Return the Huey instance, opening the store and registering the tasks once."""
        with self._lock:
            if self._huey is None:
                huey = make_huey(self.store, self.name)
                self._register(huey)
                self._huey = huey
            return self._huey

    def _register(self, huey: Huey) -> None:
        """Register the portal's tasks; each runs inside an app context."""
        from huey import crontab  # with the rest of Huey, on first use (see make_huey)

        app = self.app

        @huey.task(name=tasks.DELIVER)
        def deliver(delivery_id: int) -> None:
            """Deliver one outbox row."""
            with app.app_context():
                tasks.deliver(self, delivery_id)

        @huey.periodic_task(crontab(**REQUEUE_EVERY), name=tasks.REQUEUE_STALE)
        def requeue_stale() -> None:
            """Enqueue rows left pending too long and rows whose worker died."""
            with app.app_context():
                tasks.requeue_stale(self)

        self._deliver = deliver
        self._requeue_stale = requeue_stale

    @property
    def deliver_task(self):
        """Return the task that delivers one outbox row."""
        return self.huey and self._deliver

    @property
    def requeue_task(self):
        """Return the periodic task that re-enqueues stale rows."""
        return self.huey and self._requeue_stale

    def close(self) -> None:
        """Close the store's connections (a Redis pool), if the store was ever opened."""
        with self._lock:
            if self._huey is not None:
                close_redis_pool(getattr(self._huey.storage, "conn", None))

    def depth(self) -> dict[str, int]:
        """Count the jobs waiting in the store: queued (due now) and scheduled (retries)."""
        huey = self.huey
        return {"queued": huey.pending_count(), "scheduled": huey.scheduled_count()}

    def enqueue_delivery(self, delivery_id: int, delay: float | None = None) -> None:
        """Enqueue the delivery of an outbox row, now or after `delay` seconds."""
        if delay:
            self.deliver_task.schedule(args=(delivery_id,), delay=delay)
        else:
            self.deliver_task(delivery_id)
