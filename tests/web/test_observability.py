"""Request ids, structured logs and metrics: an operator can follow one request end to end."""

from __future__ import annotations

import json
import logging
import os
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from portal.clients.flexcharge import FlexChargeClient, FlexChargeError
from portal.clients.stripe import StripeClient
from portal.web.observability import RequestIdFilter, configure_logging
from tests.support.apps import ENCRYPTION_KEY
from tests.support.fake_flexcharge import FakeFlexCharge
from tests.support.flexcharge import flexcharge_app, record, run_jobs
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
        # /metrics reads the job queue's depth: a store of the test's, not instance/jobs.db.
        "PORTAL_JOBS_STORE": f"sqlite:///{tmp_path / 'jobs' / 'jobs.db'}",
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


def scrape(client: FlaskClient) -> dict[tuple, float]:
    """Read /metrics as Prometheus would: {(sample name, sorted labels): value}."""
    answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for sample in family.samples
    }


def jobs_run(task: str, outcome: str) -> float:
    """Return how many jobs of the task this process ran with the outcome."""
    labels = {"task": task, "outcome": outcome}
    return REGISTRY.get_sample_value("portal_jobs_total", labels) or 0


@pytest.mark.services
def test_queue_depth_backlog_and_jobs_after_a_real_delivery(database_url: str) -> None:
    with FakeFlexCharge() as flexcharge_api:
        for app in flexcharge_app(database_url, flexcharge_api, METRICS_TOKEN="scrape-token-123"):
            calls_before = outbound("flexcharge", "2xx")
            delivered_before = jobs_run("flexcharge.deliver", "delivered")
            assert len(record(app)) == 1
            before = scrape(app.test_client())
            assert before[("portal_job_queue_depth", (("state", "queued"),))] == 1
            assert before[("portal_job_queue_depth", (("state", "scheduled"),))] == 0
            assert before[("portal_delivery_backlog", (("state", "pending"),))] == 1
            assert before[("portal_delivery_backlog", (("state", "failed"),))] == 0
            assert run_jobs(app) == 1
            after = scrape(app.test_client())
            assert after[("portal_job_queue_depth", (("state", "queued"),))] == 0
            assert after[("portal_delivery_backlog", (("state", "pending"),))] == 0
            assert jobs_run("flexcharge.deliver", "delivered") == delivered_before + 1
            # Credentials checked on onboarding, a token and the transmit: each one timed.
            answered = [call for call in flexcharge_api.calls() if call.status == 200]
            assert outbound("flexcharge", "2xx") == calls_before + len(answered) >= 2


def test_a_delivery_given_up_counts_as_failed_and_flexcharge_failures_by_kind(
    database_url: str,
) -> None:
    with FakeFlexCharge() as flexcharge_api:
        for app in flexcharge_app(database_url, flexcharge_api, DELIVERY_MAX_ATTEMPTS=1):
            failed_before = jobs_run("flexcharge.deliver", "failed")
            record(app)
            flexcharge_api.fail("/transmit", 500)
            server_errors = outbound("flexcharge", "5xx")
            assert run_jobs(app) == 1
            assert jobs_run("flexcharge.deliver", "failed") == failed_before + 1
            assert outbound("flexcharge", "5xx") == server_errors + 1
    failures = {"provider": "flexcharge", "kind": "refused"}
    refused = REGISTRY.get_sample_value("portal_outbound_failures_total", failures) or 0
    client = FlexChargeClient({"sandbox": closed_port_url()}, timeout=1.0, deadline=2.0)
    with pytest.raises(FlexChargeError):
        client.fetch_token("sandbox", "app-key", "app-secret")
    assert REGISTRY.get_sample_value("portal_outbound_failures_total", failures) == refused + 1
