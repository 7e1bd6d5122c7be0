"""No input, however odd, reaches a 500: every endpoint of the URL map, signed in and not.

Each route gets odd values in its path, its query string and its body: NUL and other control
characters, integers beyond 64 bits, digits that are not ASCII, bidirectional overrides and
zero-width characters, impossible dates, and a large body. The answer may be 400, 404, 422...
but never a server error.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.flexcharge.views import FILTER_FIELDS
from portal.models import Delivery
from portal.schemas.transactions import TransactionInput
from portal.services import transactions
from portal.web.registry import flexcharge
from tests import factories
from tests.support.flexcharge import onboard, site_of, transaction_body
from tests.support.web import csrf_token, sign_in

ODD_TEXT = [
    "a\x00b",
    "\x1b[31mred",
    "line\nbreak",
    "\u202eevil",
    "zero\u200bwidth",
    "99999999999999999999999999",
    "-1",
    "²",
    "٣",
    "9999-12-31",
    "'; DROP TABLE users; --",
    "x" * 5000,
]
ODD_IDS = ["99999999999999999999999", "0", "-1", "²", "%00", "ME-\x00", "\u202e1"]
FIELDS = [
    "name",
    "email",
    "password",
    "confirm",
    "current_password",
    "company_id",
    "environment",
    "status",
    "role",
    "secret",
    "provider",
    "active",
    "scheduler_enabled",
    "network",
    "type",
    "adapter",
    "method",
    "api_key",
    "shared_secret",
    "business_country",
    "language",
    "settings",
    "extra_data",
    "terminals",
    "transaction_types",
    "default_connection_id",
    "retries",
    "expiry_hours",
    # FlexCharge: credentials, sites, profiles, and the report's filters.
    "mid",
    "app_key",
    "app_secret",
    "site_id",
    "tokenization_key",
    "webhook_key",
    "url",
    "descriptor",
    "enabled",
    "cit_website",
    "cit_call_center",
    "mit",
    # The JSON APIs' fields (provisioning and FlexCharge's transactions).
    "merchant",
    "orderId",
    "transaction",
    "siteUrl",
    "customerIp",
    "card",
    "config",
    "adapter",
]
# The lists' parameters, and every filter of the FlexCharge report (a new one is probed too).
QUERY = [
    "q",
    "after",
    "before",
    "actor",
    "action",
    "object_type",
    "next",
    "sort",
    "limit",
    *FILTER_FIELDS,
]


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    """Create one of everything, and return the values that fill each route's parameters."""
    with app.app_context():
        factories.setup_account()
        factories.enable_scheduler()
        connection = factories.make_connection()
        integration = connection.integration
        flow = factories.make_flow(integration, connection)
        key = factories.make_api_key(environment="sandbox").api_key
        # A FlexCharge merchant with a site, and a recorded transaction with its delivery, so
        # their routes are reached with ids that exist (no FlexCharge call: it is approved).
        merchant = onboard(integration.customer, environments=())
        data = TransactionInput.model_validate(transaction_body(merchant.public_id))
        recorded = transactions.record_transaction(
            key.company_id, "sandbox", data, flexcharge(), lambda delivery_id: None
        ).transaction
        # Without credentials nothing is transmitted: add the failed delivery "Retry now" takes.
        failed = Delivery(
            transaction=recorded, kind="transmit", environment="sandbox", state="failed"
        )
        db.session.add(failed)
        db.session.commit()
        return {
            "customer_id": integration.customer.public_id,
            "integration_id": str(integration.id),
            "connection_id": connection.public_id,
            "flow_id": str(flow.id),
            "company_id": str(factories.make_company().id),
            "api_key_id": str(factories.make_api_key().api_key.id),
            "auto_retry_id": str(factories.make_auto_retry().id),
            "user_id": str(factories.make_user("viewer").id),
            "integration_id_external": "1",
            # The provisioning API's path parameters.
            "merchant_guid": integration.customer.public_id,
            "connector_guid": connection.public_id,
            "adapter_id": "Simulator",
            "site_id": str(site_of(merchant, "https://shop.example.com").id),
            "transaction_id": str(recorded.id),
            "delivery_id": str(failed.id),
            "environment": "sandbox",
        }


def routes(app: Flask) -> list[tuple[str, str, list[str]]]:
    """Return (rule, method, parameter names) of every endpoint but static files."""
    found = []
    for rule in app.url_map.iter_rules():
        # Signing out would turn the signed-in pass into an anonymous one; it reads no input.
        if rule.endpoint in ("static", "auth.logout"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, sorted(rule.arguments)))
    return found


def fill(rule: str, values: dict[str, str]) -> str:
    """Put values into a rule's parameters."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda match: values[match.group(1)], rule)


def send(client: FlaskClient, method: str, url: str, token: str, value: str):
    """Send odd values in the query string and in every form field (or a JSON body)."""
    query = {name: value for name in QUERY}
    if method == "GET":
        return client.get(url, query_string=query)
    if url.startswith("/api/"):
        body = json.dumps({field: value for field in FIELDS}) if value else "\x00"
        return client.open(url, method=method, data=body, content_type="application/json")
    data = {field: value for field in FIELDS}
    data["csrf_token"] = token
    return client.open(url, method=method, data=data, query_string=query)


def servers_errors(
    app: Flask, client: FlaskClient, world: dict[str, str], form_page: str = "/login"
) -> list[str]:
    """Send every odd value to every route; return the requests answered with a 5xx."""
    token = csrf_token(client, form_page)
    failures, checked = [], 0
    for rule, method, arguments in routes(app):
        values = {name: world.get(name, world.get(f"{name}_external", "1")) for name in arguments}
        urls = [fill(rule, values)]
        for name in arguments:
            urls += [fill(rule, {**values, name: odd}) for odd in ODD_IDS]
        for url in urls:
            for value in ODD_TEXT[:4] if len(urls) > 1 else ODD_TEXT:
                response = send(client, method, url, token, value)
                if response.status_code >= 500:
                    failures.append(f"{method} {url!r} {value[:20]!r}: {response.status_code}")
                checked += 1
    assert checked > 1000, checked
    return failures


@pytest.mark.services
def test_no_odd_input_reaches_a_500_for_anonymous_visitors(app, client, world) -> None:
    assert servers_errors(app, client, world) == []


@pytest.mark.services
@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_no_odd_input_reaches_a_500_for_signed_in_users(app, client, world, role) -> None:
    with app.app_context():
        email = factories.make_user(role).email
    assert sign_in(client, email).status_code == 303
    assert servers_errors(app, client, world, "/connect/") == []


@pytest.mark.services
def test_no_odd_input_reaches_a_500_with_an_api_key(app, client, world) -> None:
    with app.app_context():
        key = factories.make_api_key(environment="production").plaintext
    # Past authentication every JSON endpoint reads its path, query and body.
    app.config["API_RATE_LIMIT"] = "1000000 per second"
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    assert servers_errors(app, client, world) == []


def test_a_body_larger_than_the_limit_is_refused_without_a_500(app, client, world) -> None:
    with app.app_context():
        email = factories.make_user("admin").email
    sign_in(client, email)
    token = csrf_token(client, "/account/companies/")
    huge = client.post("/account/companies/", data={"name": "x" * (5 * 1024 * 1024)})
    assert huge.status_code == 413
    megabyte = client.post(
        "/account/companies/", data={"name": "x" * (1024 * 1024), "csrf_token": token}
    )
    assert megabyte.status_code in (413, 422)


@pytest.mark.services
def test_a_megabyte_body_on_every_endpoint_that_takes_one_never_reaches_a_500(
    app, client, world
) -> None:
    with app.app_context():
        email = factories.make_user("admin").email
        key = factories.make_api_key(environment="production").plaintext
    sign_in(client, email)
    token = csrf_token(client, "/connect/")
    megabyte = "x" * (1024 * 1024)
    answers = {}
    for rule, method, arguments in routes(app):
        if method == "GET":
            continue
        url = fill(rule, {name: world.get(name, "1") for name in arguments})
        if url.startswith("/api/") or url.startswith("/webhooks/"):
            body = json.dumps({field: megabyte for field in ("name", "orderId")})
            response = client.open(
                url,
                method=method,
                data=body,
                content_type="application/json",
                headers={"Authorization": f"Bearer {key}"},
            )
        else:
            data = {"name": megabyte, "csrf_token": token}
            response = client.open(url, method=method, data=data)
        answers[f"{method} {url}"] = response.status_code
    assert len(answers) > 40, answers
    assert not {url: code for url, code in answers.items() if code >= 500}
    # The JSON APIs refuse such a body before reading it.
    api = {url: code for url, code in answers.items() if " /api/" in url}
    assert all(400 <= code < 500 for code in api.values()), api
    assert api["POST /api/provisioning/createMerchant"] == 413
    assert api["POST /api/v1/transactions"] == 413
