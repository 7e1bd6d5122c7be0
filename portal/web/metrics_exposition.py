"""Render the metrics of this process, or of every gunicorn worker in multiprocess mode."""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.registry import Collector


def render(*read_at_scrape: Collector) -> bytes:
    """Return the metrics in Prometheus' text format, then those the collectors read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several workers: add up what each one wrote to the shared directory.
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    now = CollectorRegistry(auto_describe=False)
    for collector in read_at_scrape:
        now.register(collector)
    return generate_latest(counted) + generate_latest(now)
