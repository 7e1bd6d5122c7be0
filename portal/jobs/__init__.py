"""Background jobs on Huey: deliveries to FlexCharge and the periodic re-enqueue of stale rows.

The queue is built once per app (``register``) and found with ``job_queue()``; its Huey store
is SQLite beside the database by default (``instance/jobs.db``) and Redis when
``PORTAL_JOBS_STORE`` is a ``redis://`` URL. ``flask --app wsgi worker`` runs a worker.
"""

from __future__ import annotations

from flask import Flask, current_app

from portal.jobs.queue import JobQueue

EXTENSION = "portal.jobs"


def register(app: Flask) -> None:
    """Build the app's job queue (its store is opened on first use, not here)."""
    app.extensions[EXTENSION] = JobQueue(
        app, app.config["JOBS_STORE"], app.config["JOBS_QUEUE_NAME"]
    )


def job_queue() -> JobQueue:
    """Return the current app's job queue."""
    return current_app.extensions[EXTENSION]
