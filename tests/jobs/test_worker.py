"""The job worker as production runs it: a subprocess that serves its metrics and stops gently."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal.extensions import db
from portal.models import Delivery
from tests.support.apps import ENCRYPTION_KEY
from tests.support.fake_flexcharge import FakeFlexCharge
from tests.support.flexcharge import (
    fake_flexcharge,  # noqa: F401 (a fixture)
    flexcharge_app,
    record,
)
from tests.support.worker import Worker, wait_for

DELIVER = (("task", "flexcharge.deliver"),)
DELIVERED = (("outcome", "delivered"), *DELIVER)


@pytest.fixture
def jobs_store(tmp_path: Path) -> str:
    """Return a job store the test and the worker subprocess share (SQLite, one host)."""
    return f"sqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture
def app(database_url: str, fake: FakeFlexCharge, jobs_store: str) -> Iterator[Flask]:
    """Return an app that enqueues where the worker reads: the same store and queue name."""
    yield from flexcharge_app(database_url, fake, JOBS_STORE=jobs_store, JOBS_QUEUE_NAME="portal")


def worker_env(database_url: str, fake: FakeFlexCharge, jobs_store: str) -> dict[str, str]:
    """Return the worker's environment: the app's database, keys, store and FlexCharge."""
    return {
        "DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "worker-" + secrets.token_hex(16),
        "PORTAL_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "PORTAL_API_KEY_PEPPER": "worker-pepper-" + secrets.token_hex(16),
        "PORTAL_JOBS_STORE": jobs_store,
        "FLEXCHARGE_SANDBOX_API_BASE": fake.base_url("sandbox"),
        "FLEXCHARGE_PRODUCTION_API_BASE": fake.base_url("production"),
    }


def delivery_state(app: Flask, delivery_id: int) -> tuple[str, str]:
    """Return the delivery's state and its transaction's transmit state, read afresh."""
    with app.app_context():
        delivery = db.session.get(Delivery, delivery_id)
        state = (delivery.state, delivery.transaction.transmit_state)
        db.session.remove()
        return state


def test_the_worker_serves_what_it_counted_on_its_metrics_port(
    app: Flask, database_url: str, fake: FakeFlexCharge, jobs_store: str, tmp_path: Path
) -> None:
    [delivery_id] = record(app)
    calls_before = len(fake.calls())
    env = worker_env(database_url, fake, jobs_store)
    with Worker(env, tmp_path / "worker.log", "--no-periodic") as worker:
        # The job is counted as it ends, a moment after it recorded the delivery.
        metrics = wait_for(
            lambda: ("portal_jobs_total", DELIVERED) in (seen := worker.metrics()) and seen,
            "the job to be counted",
        )
        assert worker.terminate() == 0
    assert delivery_state(app, delivery_id) == ("delivered", "sent")
    assert metrics[("portal_jobs_total", DELIVERED)] == 1
    assert metrics[("portal_job_duration_seconds_count", DELIVER)] == 1
    # The worker's own calls only: a token for its process, then the transmit.
    made = len(fake.calls()) - calls_before
    flexcharge_2xx = (("outcome", "2xx"), ("provider", "flexcharge"))
    assert metrics[("portal_outbound_request_duration_seconds_count", flexcharge_2xx)] == made
    assert made >= 1 and fake.calls("/transmit")


def test_sigterm_lets_the_running_delivery_finish_then_exits_0(
    app: Flask, database_url: str, fake: FakeFlexCharge, jobs_store: str, tmp_path: Path
) -> None:
    [delivery_id] = record(app)
    fake.slow("/transmit", 2.0)
    env = worker_env(database_url, fake, jobs_store)
    with Worker(env, tmp_path / "worker.log", "--no-periodic") as worker:
        # FlexCharge has the transmit and takes its time to answer: stop the worker now.
        wait_for(lambda: fake.calls("/transmit"), "the transmit to reach FlexCharge")
        assert delivery_state(app, delivery_id)[0] == "in_progress"
        status = worker.terminate()
    log = (tmp_path / "worker.log").read_text()
    assert status == 0, log
    assert delivery_state(app, delivery_id) == ("delivered", "sent"), log
    assert len(fake.calls("/transmit")) == 1
