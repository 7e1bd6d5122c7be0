"""The portal's Prometheus metrics, defined once; the web layer serves them at /metrics.

With several gunicorn workers, prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set by gunicorn.conf.py) adds up what every worker counted.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
