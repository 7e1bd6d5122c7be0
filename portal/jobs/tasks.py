"""What the jobs do: call the delivery services with the app's collaborators, counted per task."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from portal.core.metrics import JOB_SECONDS, JOBS
from portal.services import deliveries
from portal.web.registry import flexcharge

if TYPE_CHECKING:
    from portal.jobs.queue import JobQueue

DELIVER = "flexcharge.deliver"
REQUEUE_STALE = "flexcharge.requeue_stale"


def counted(task: str, work: Callable[[], str]) -> str:
    """Run a job and count its outcome ("error" when it raised) and its time, for /metrics."""
    started = time.perf_counter()
    try:
        outcome = work()
    except Exception:
        JOBS.labels(task=task, outcome="error").inc()
        raise
    finally:
        JOB_SECONDS.labels(task=task).observe(time.perf_counter() - started)
    JOBS.labels(task=task, outcome=outcome.replace(" ", "_")).inc()
    return outcome


def deliver(queue: JobQueue, delivery_id: int) -> str:
    """Deliver one outbox row; a retry is scheduled on the same queue."""
    return counted(
        DELIVER, lambda: deliveries.deliver(flexcharge(), delivery_id, queue.enqueue_delivery)
    )


def requeue_stale(queue: JobQueue) -> int:
    """Enqueue rows left pending too long and rows whose worker died."""
    requeued = 0

    def work() -> str:
        """Re-enqueue, remembering how many rows."""
        nonlocal requeued
        requeued = deliveries.requeue_stale(flexcharge().policy, queue.enqueue_delivery)
        return "done"

    counted(REQUEUE_STALE, work)
    return requeued
