"""The delivery queue: outages, crashes, retries with backoff, failure, Retry now, two workers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.jobs import job_queue
from portal.models import AuditEvent, Delivery
from portal.models.base import utcnow
from portal.services import deliveries
from portal.services.flexcharge_access import DeliveryPolicy
from portal.web.registry import flexcharge
from tests.support.concurrency import run_concurrently
from tests.support.fake_flexcharge import FakeFlexCharge
from tests.support.flexcharge import (
    SYSTEM,
    fake_flexcharge,  # noqa: F401 (a fixture)
    flexcharge_app,
    queued,
    record,
    run_jobs,
)

# Also run against PostgreSQL and Redis (the job store) in `make test-services`.
pytestmark = pytest.mark.services


@pytest.fixture
def app(database_url: str, fake: FakeFlexCharge) -> Iterator[Flask]:
    """Return an app whose FlexCharge calls go to the fake, with three attempts per row."""
    yield from flexcharge_app(database_url, fake)


def states(app: Flask) -> list[tuple[str, int, str]]:
    """Return (state, attempts, transaction's transmit state) of every delivery."""
    with app.app_context():
        rows = db.session.scalars(select(Delivery).order_by(Delivery.id))
        return [(d.state, d.attempts, d.transaction.transmit_state) for d in rows]


def backdate(**values) -> None:
    """Move the deliveries' times into the past, as if that much time had gone by."""
    db.session.execute(update(Delivery).values(**values))
    db.session.commit()


def test_the_queue_survives_an_outage_and_delivers_afterwards(app, fake) -> None:
    (delivery_id,) = record(app)
    fake.refuse_connections()
    with app.app_context():
        # One attempt during the outage: retried later, not lost.
        assert deliveries.deliver(flexcharge(), delivery_id, lambda *a, **k: None) == "retry"
        row = db.session.get(Delivery, delivery_id)
        assert (row.state, row.attempts) == ("pending", 1)
        assert row.last_error == "FlexCharge Sandbox refused the connection"
    fake.accept_connections()
    run_jobs(app)
    assert states(app) == [("delivered", 2, "sent")]
    assert len(fake.calls("/transmit")) == 1


def test_5xx_and_429_are_retried_then_the_row_fails_after_the_last_attempt(app, fake) -> None:
    fake.fail("/transmit", 503, times=2)
    fake.fail("/transmit", 429, times=5)
    record(app)
    run_jobs(app)
    assert states(app) == [("failed", 3, "failed")]
    with app.app_context():
        (failed,) = deliveries.failed_deliveries()
        assert "refused the request (429" in failed.last_error
    assert [call.status for call in fake.calls("/transmit")] == [503, 503, 429]


def test_a_4xx_other_than_401_409_429_is_not_retried(app, fake) -> None:
    fake.fail("/transmit", 400)
    record(app)
    run_jobs(app)
    assert states(app) == [("failed", 1, "failed")]
    assert len(fake.calls("/transmit")) == 1


def test_retry_now_gives_a_failed_row_a_new_round_and_is_audited(app, fake) -> None:
    fake.fail("/transmit", 422)
    (delivery_id,) = record(app)
    run_jobs(app)
    assert states(app) == [("failed", 1, "failed")]
    with app.app_context():
        deliveries.retry_now(
            SYSTEM, deliveries.get_delivery(delivery_id), job_queue().enqueue_delivery
        )
        events = db.session.scalar(
            select(func.count()).where(AuditEvent.action == "flexcharge.delivery.retry")
        )
        assert events == 1
        with pytest.raises(deliveries.Conflict):
            deliveries.retry_now(
                SYSTEM, deliveries.get_delivery(delivery_id), job_queue().enqueue_delivery
            )
    run_jobs(app)
    assert states(app) == [("delivered", 1, "sent")]


def test_a_crash_between_commit_and_enqueue_is_caught_by_the_periodic_task(app, fake) -> None:
    def crash(_delivery_id: int) -> None:
        raise ConnectionError("the job store went away")

    record(app, enqueue=crash)
    assert queued(app) == 0  # the enqueue was lost; the outbox row was not
    with app.app_context():
        policy = flexcharge().policy
        # Not pending long enough yet: left alone.
        assert deliveries.requeue_stale(policy, job_queue().enqueue_delivery) == 0
        backdate(next_attempt_at=utcnow() - timedelta(seconds=policy.stale_seconds + 1))
        assert deliveries.requeue_stale(policy, job_queue().enqueue_delivery) == 1
    run_jobs(app)
    assert states(app) == [("delivered", 1, "sent")]


def test_a_worker_that_dies_mid_delivery_frees_its_row_when_the_lease_ends(app, fake) -> None:
    (delivery_id,) = record(app)
    with app.app_context():
        policy = flexcharge().policy
        # A worker claims the row, then dies before calling FlexCharge.
        assert deliveries.claim(delivery_id, policy) is not None
    run_jobs(app)  # the queued message finds the row taken: nothing is sent twice
    assert states(app) == [("in_progress", 1, "pending")]
    assert fake.calls("/transmit") == []
    with app.app_context():
        assert deliveries.requeue_stale(policy, job_queue().enqueue_delivery) == 0
        # The lease runs out (as if policy.lease_seconds had passed).
        backdate(claimed_until=utcnow() - timedelta(seconds=1))
        assert deliveries.requeue_stale(policy, job_queue().enqueue_delivery) == 1
    run_jobs(app)
    assert states(app) == [("delivered", 2, "sent")]


def test_the_periodic_task_is_registered_and_runs_the_sweep(app, fake) -> None:
    with app.app_context():
        queue = job_queue()
        assert queue.requeue_task.name == "flexcharge.requeue_stale"
        assert queue.huey.read_periodic(utcnow().replace(tzinfo=None))
    record(app, enqueue=lambda _id: None)
    with app.app_context():
        db.session.execute(update(Delivery).values(next_attempt_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        job_queue().requeue_task.call_local()
    run_jobs(app)
    assert states(app) == [("delivered", 1, "sent")]


def test_backoff_doubles_is_capped_and_jittered() -> None:
    policy = DeliveryPolicy(backoff_seconds=30, backoff_max_seconds=600)
    rng = random.Random(7)
    delays = [deliveries.backoff_delay(attempt, policy, rng) for attempt in range(1, 8)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(600, 30 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 3) for d in delays}) == len(delays)  # jitter spreads them
    assert delays[-1] <= 600


def test_two_workers_never_deliver_the_same_row_twice(app, fake) -> None:
    ids = record(app, count=12, enqueue=lambda _id: None)

    def worker(_n: int) -> list[str]:
        # Each worker tries every row, as two consumers fed duplicate messages would.
        return [deliveries.deliver(flexcharge(), i, lambda *a, **k: None) for i in ids]

    outcomes = run_concurrently(app, 2, worker)
    assert all(isinstance(result, list) for result in outcomes), outcomes
    flat = [outcome for result in outcomes for outcome in result]
    assert flat.count("delivered") == 12 and flat.count("skipped") == 12
    transmitted = [call.body["transaction"]["id"] for call in fake.calls("/transmit")]
    assert len(transmitted) == len(set(transmitted)) == 12
    assert {state for state, _, _ in states(app)} == {"delivered"}
