"""The portal's Prometheus metrics, defined once; the web layer serves them at /metrics.

With several gunicorn workers, prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set by gunicorn.conf.py) adds up what every worker counted. A job worker serves its own
counters on a port of its own (``flask worker --metrics-port N``). Queue depth and the
deliveries backlog are read from the stores when scraped, not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
OUTBOUND_SECONDS = Histogram(
    "portal_outbound_request_duration_seconds",
    "Time of calls to third parties, by provider and outcome.",
    ["provider", "outcome"],
)
OUTBOUND_FAILURES = Counter(
    "portal_outbound_failures_total",
    "Calls to third parties that gave no usable answer, by provider and kind of failure.",
    ["provider", "kind"],
)
API_KEY_THROTTLED = Counter(
    "portal_api_key_throttled_total",
    "API requests refused 429 after too many failed key verifications, by whether the refusal "
    "was held (a free hold slot) or answered at once (every slot taken: a wide flood).",
    ["held"],
)
JOBS = Counter(
    "portal_jobs_total",
    "Background jobs run by this worker, by task and outcome (failed and error are failures).",
    ["task", "outcome"],
)
JOB_SECONDS = Histogram(
    "portal_job_duration_seconds",
    "Time a background job ran, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
)


def observe_outbound(provider: str, outcome: str, seconds: float) -> None:
    """Time a call to a third party; count it as failed when it gave no answer.

    ``outcome`` is the answer's status class ("2xx", "5xx", ...) or how the call failed
    ("refused", "timeout", "deadline", "unreachable", ...).
    """
    OUTBOUND_SECONDS.labels(provider=provider, outcome=outcome).observe(seconds)
    if not outcome.endswith("xx"):
        OUTBOUND_FAILURES.labels(provider=provider, kind=outcome).inc()


class BacklogCollector:
    """Gauges read when scraped: jobs waiting in the queue's store, deliveries not yet done."""

    def __init__(
        self,
        read_jobs: Callable[[], Mapping[str, int]],
        read_deliveries: Callable[[], Mapping[str, int]],
    ) -> None:
        """Keep the functions that count waiting jobs and deliveries, by state."""
        self.read_jobs = read_jobs
        self.read_deliveries = read_deliveries

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges; a store that does not answer leaves its gauge out."""
        families = (
            ("portal_job_queue_depth", "Jobs waiting in the queue's store.", self.read_jobs),
            (
                "portal_delivery_backlog",
                "Deliveries not yet delivered, by state (failed ones wait for a person).",
                self.read_deliveries,
            ),
        )
        for name, documentation, read in families:
            try:
                counts = read()
            except Exception:
                # A scrape must still answer while Redis or the database is down.
                logger.warning("metrics: %s could not be read", name, exc_info=True)
                continue
            gauge = GaugeMetricFamily(name, documentation, labels=["state"])
            for state, count in counts.items():
                gauge.add_metric([state], count)
            yield gauge
