"""What the jobs do: call the delivery services with the app's collaborators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.services import deliveries
from portal.web.registry import flexcharge

if TYPE_CHECKING:
    from portal.jobs.queue import JobQueue


def deliver(queue: JobQueue, delivery_id: int) -> str:
    """Deliver one outbox row; a retry is scheduled on the same queue."""
    return deliveries.deliver(flexcharge(), delivery_id, queue.enqueue_delivery)


def requeue_stale(queue: JobQueue) -> int:
    """Enqueue rows left pending too long and rows whose worker died."""
    return deliveries.requeue_stale(flexcharge().policy, queue.enqueue_delivery)
