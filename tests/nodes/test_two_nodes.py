"""Two app nodes and two job workers behave as one portal: nothing lives on a node.

Each test talks to both gunicorn nodes over real HTTP (see conftest.py); the rows they need
are seeded through an app in this process with the nodes' settings.
"""

from __future__ import annotations

import re
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs import job_queue
from portal.models import ApiKey, AutoRetry, Delivery
from tests import factories
from tests.nodes.conftest import ADMIN, Browser, Cluster
from tests.support.account_integrations import INDEX, KEYS, RETRIES
from tests.support.flexcharge import bearer, declined_body, onboard, transaction_body
from tests.support.worker import wait_for

pytestmark = pytest.mark.nodes

HTMX = {"HX-Request": "true"}
DELIVER = ("task", "flexcharge.deliver")


def test_a_session_made_on_one_node_works_on_the_other(cluster: Cluster, browser: Browser):
    a, b = cluster.nodes
    assert browser.sign_in(a, ADMIN).status_code == 303
    page = browser.get(f"{b}{INDEX}")
    assert page.status_code == 200
    assert "API keys" in page.text
    # The CSRF token of a page from one node is good on the other: it lives in the session.
    signed_out = browser.post(f"{b}/logout", {}, token_from=f"{a}{INDEX}")
    assert signed_out.status_code == 303
    assert browser.get(f"{a}{INDEX}").status_code == 302  # gone on both nodes


def test_the_sign_in_throttle_counts_failures_on_both_nodes(cluster: Cluster, browser: Browser):
    a, b = cluster.nodes
    with cluster.app.app_context():
        email = factories.make_user("viewer").email
    # Five failures, the threshold, split between the nodes: neither saw five by itself.
    for node in (a, b, a, b, a):
        assert browser.sign_in(node, email, "not the password 1").status_code == 401
    locked = browser.sign_in(b, email)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


def test_an_api_key_deleted_through_one_node_is_refused_by_the_other_at_once(
    cluster: Cluster, browser: Browser
):
    a, b = cluster.nodes
    assert browser.sign_in(a, ADMIN).status_code == 303
    with cluster.app.app_context():
        company_id = factories.default_company().id
    form = {"name": "CRM on two nodes", "company_id": str(company_id), "environment": "sandbox"}
    made = browser.post(f"{a}{KEYS}", form, token_from=f"{a}{INDEX}", headers=HTMX)
    key = re.search(r'value="(ptl_test_[^"]+)"', made.text).group(1)

    def me(node: str) -> int:
        """Call the API with the key on a node; return the status."""
        return requests.get(f"{node}/api/v1/me", headers=bearer(key), timeout=30).status_code

    # Node B has verified the key and trusts it for a while: the delete must still reach it.
    assert (me(b), me(a), me(b)) == (200, 200, 200)
    with cluster.app.app_context():
        key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.name == form["name"]))
    deleted = browser.post(f"{a}{KEYS}{key_id}/delete", {}, token_from=f"{a}{INDEX}")
    assert deleted.status_code == 303
    assert me(b) == 401


def test_two_concurrent_auto_retry_adds_one_per_node_leave_exactly_one_rule(
    cluster: Cluster, browser: Browser
):
    with cluster.app.app_context():
        factories.enable_scheduler()
        company_id = factories.default_company().id
    assert browser.sign_in(cluster.nodes[0], ADMIN).status_code == 303
    form = {
        "csrf_token": browser.token(f"{cluster.nodes[0]}{INDEX}"),
        "company_id": str(company_id),
        "name": "Prod retries",
        "environment": "production",
        "status": "active",
    }
    start = threading.Barrier(2)

    def add(node: str) -> int:
        """Post "Add auto-retry" to a node with the signed-in session, as the other does."""
        with requests.Session() as tab:
            tab.cookies.update(browser.session.cookies)
            start.wait()
            return tab.post(f"{node}{RETRIES}", data=form, allow_redirects=False, timeout=30)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(add, cluster.nodes))
    assert sorted(answer.status_code for answer in answers) == [303, 422]
    refused = next(answer for answer in answers if answer.status_code == 422)
    assert "already has an auto-retry for Production" in refused.text
    with cluster.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AutoRetry)) == 1


def jobs_done(cluster: Cluster, outcome: str) -> float:
    """Return how many delivery jobs both workers ended with the outcome."""
    key = ("portal_jobs_total", (("outcome", outcome), DELIVER))
    return sum(worker.metrics().get(key, 0) for worker in cluster.workers)


def test_jobs_enqueued_through_either_node_are_delivered_exactly_once(
    cluster: Cluster, browser: Browser
):
    with cluster.app.app_context():
        merchant = onboard().public_id
        key = factories.make_api_key("Transactions", "sandbox").plaintext
    bodies = [transaction_body(merchant) for _ in range(6)]
    for number, body in enumerate(bodies):
        node = cluster.nodes[number % 2]
        answer = requests.post(
            f"{node}/api/v1/transactions", json=body, headers=bearer(key), timeout=30
        )
        assert answer.status_code == 201, answer.text

    def delivered() -> list[int]:
        """Return the ids of the deliveries once every one is delivered."""
        with cluster.app.app_context():
            rows = db.session.execute(select(Delivery.id, Delivery.state)).all()
            db.session.remove()
        done = len(rows) == len(bodies) and all(state == "delivered" for _, state in rows)
        return [delivery_id for delivery_id, _ in rows] if done else []

    delivery_ids = wait_for(delivered, "both workers to deliver", timeout=40)
    wait_for(lambda: jobs_done(cluster, "delivered") == len(bodies), "the jobs to be counted")
    # Every message again, as a redelivered or duplicated message would arrive.
    with cluster.app.app_context():
        for delivery_id in delivery_ids:
            job_queue().enqueue_delivery(delivery_id)
    wait_for(lambda: jobs_done(cluster, "skipped") == len(bodies), "the duplicates to be skipped")

    transmitted = [call.body["orderId"] for call in cluster.flexcharge.calls("/transmit")]
    assert sorted(transmitted) == sorted(body["orderId"] for body in bodies), cluster.show_logs()
    with cluster.app.app_context():
        attempts = db.session.scalars(select(Delivery.attempts)).all()
    assert attempts == [1] * len(bodies)
    # Either node reports the same queue and backlog, read from Redis and PostgreSQL.
    assert browser.sign_in(cluster.nodes[1], ADMIN).status_code == 303
    metrics = browser.get(f"{cluster.nodes[1]}/metrics").text
    assert 'portal_job_queue_depth{state="queued"} 0.0' in metrics
    assert 'portal_delivery_backlog{state="pending"} 0.0' in metrics


def test_a_node_told_to_stop_answers_the_request_it_is_serving(cluster: Cluster):
    """Last of the module: node B stops for good."""
    with cluster.app.app_context():
        merchant = onboard(factories.make_customer("Slow Evaluate Merchant")).public_id
        key = factories.make_api_key("Declines", "sandbox").plaintext
    node, server = cluster.nodes[1], cluster.servers[1]
    # FlexCharge takes its time over the decline's evaluate, which the request waits for.
    cluster.flexcharge.slow("/evaluate", 1.5)
    with ThreadPoolExecutor(1) as pool:
        sent = pool.submit(
            requests.post,
            f"{node}/api/v1/transactions",
            json=declined_body(merchant),
            headers=bearer(key),
            timeout=30,
        )
        wait_for(lambda: cluster.flexcharge.calls("/evaluate"), "the evaluate to reach FlexCharge")
        server.process.send_signal(signal.SIGTERM)  # a deploy or a scale-in
        answer = sent.result()
    cluster.flexcharge.slow("/evaluate", 0)
    assert answer.status_code == 201, answer.text
    assert answer.json()["transaction"]["flexcharge"]["evaluate"]["state"] == "answered"
    assert server.process.wait(timeout=40) == 0
