"""Request ids, structured logs and metrics: an operator can follow one request end to end."""

from __future__ import annotations

import json
import logging
import os
import re

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from portal.clients.stripe import StripeClient
from portal.web.observability import RequestIdFilter, configure_logging
from tests.support.apps import ENCRYPTION_KEY
from tests.support.gunicorn import Gunicorn, get
from tests.support.stripe_app import closed_port_url, stripe_key


def test_every_answer_carries_a_request_id_and_keeps_a_well_formed_one(client) -> None:
    first, second = client.get("/healthz"), client.get("/login")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-Id"])
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    kept = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a9c21-0001"})
    assert kept.headers["X-Request-Id"] == "lb-7f3a9c21-0001"
    odd = client.get("/healthz", headers={"X-Request-Id": "x\u202e<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-Id"])


def test_json_error_bodies_quote_the_request_id(client) -> None:
    response = client.get("/api/v1/nothing-here", headers={"X-Request-Id": "trace-123456"})
    assert response.status_code == 404
    assert response.get_json()["requestId"] == "trace-123456"


def test_log_lines_are_json_with_the_request_id(app: Flask, client: FlaskClient, capsys) -> None:
    logger = logging.getLogger("portal.test")
    configure_logging({"LOG_FORMAT": "json"})
    try:
        with app.test_request_context(headers={"X-Request-Id": "trace-abcdef12"}):
            app.preprocess_request()
            logger.warning("something happened")
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "portal", False):
                logging.getLogger().removeHandler(handler)
    errors = capsys.readouterr().err.splitlines()
    line = next(row for row in errors if "something happened" in row)
    record = json.loads(line)
    assert record["request_id"] == "trace-abcdef12"
    assert (record["level"], record["logger"]) == ("WARNING", "portal.test")
    assert "time" in record


def test_the_request_id_filter_leaves_records_outside_requests_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert RequestIdFilter().filter(record) and record.request_id is None


def test_metrics_are_for_admins_and_scrapers_with_the_token(app, client, login) -> None:
    assert client.get("/metrics").status_code == 302  # anonymous: sign in first
    app.config["METRICS_TOKEN"] = "scrape-token-123"
    scraper = app.test_client()
    wrong = scraper.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 302
    scraped = scraper.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert scraped.status_code == 200
    assert "portal_request_duration_seconds_bucket" in scraped.text
    login("viewer")
    assert client.get("/metrics").status_code == 403


def outbound(provider: str, outcome: str) -> float:
    """Return how many outbound calls of the provider ended with the outcome."""
    labels = {"provider": provider, "outcome": outcome}
    return REGISTRY.get_sample_value("portal_outbound_request_duration_seconds_count", labels) or 0


def test_outbound_calls_are_timed_per_provider_and_outcome(fake) -> None:
    before_ok, before_refused = outbound("stripe", "2xx"), outbound("stripe", "refused")
    StripeClient(fake.base_url, 1.0).verify_secret_key(stripe_key())
    StripeClient(closed_port_url(), 1.0).verify_secret_key(stripe_key())
    assert outbound("stripe", "2xx") == before_ok + 1
    assert outbound("stripe", "refused") == before_refused + 1


def test_several_workers_add_up_their_metrics(tmp_path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_SECRET_KEY": "metrics-" + os.urandom(8).hex(),
        "PORTAL_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "PORTAL_API_KEY_PEPPER": "metrics-pepper-" + os.urandom(8).hex(),
        "PORTAL_METRICS_TOKEN": "scrape-token-123",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    with Gunicorn(env, "--workers", "2") as server:
        for _ in range(40):
            assert get(server.port, "/healthz")[0] == 200
        auth = {"Authorization": "Bearer scrape-token-123"}
        metrics = get(server.port, "/metrics", headers=auth)
    answered = sum(
        sample.value
        for family in text_string_to_metric_families(metrics[2])
        for sample in family.samples
        if sample.name == "portal_request_duration_seconds_count"
        and sample.labels["endpoint"] == "health.healthz"
    )
    # The readiness polls of the helper count too: at least this test's forty, both workers'.
    assert answered >= 40
