"""Connect pages: what a user sees, what is refused, and who may do what."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, Connection, Customer, Flow, Integration
from portal.web.registry import secret_box
from tests import factories
from tests.support.apps import fresh_app, overrides
from tests.support.web import csrf_token, sign_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    """Create two customers; the first has two integrations, one with a connection and a flow."""
    with app.app_context():
        customer = factories.make_customer("Acme Payer")
        integration = factories.make_integration(customer, name="Visa link", network="Visa")
        connection = factories.make_connection(
            integration,
            name="Primary",
            shared_secret="OsEPpNrSr8hxYR3BO0F73YXMvMdDsM",
            config={"username": "asmith", "password": "supersecure1"},
        )
        flow = factories.make_flow(integration, connection, name="Main flow")
        second = factories.make_integration(customer, name="Mastercard link", network="MC")
        other_customer = factories.make_customer("Other Payer")
        other = factories.make_integration(other_customer, name="Other", network="Visa")
        other_connection = factories.make_connection(other, name="Elsewhere")
        other_flow = factories.make_flow(other, other_connection, name="Elsewhere flow")
        base = f"/connect/customers/{customer.public_id}/integrations/{integration.id}"
        return {
            "customer": customer.public_id,
            "integration": str(integration.id),
            "second": str(second.id),
            "connection": connection.public_id,
            "flow": str(flow.id),
            "base": base,
            "other_customer": other_customer.public_id,
            "other_integration": str(other.id),
            "other_connection": other_connection.public_id,
            "other_flow": str(other_flow.id),
        }


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs):
    """Post a form with its CSRF token, as the browser does."""
    token = csrf_token(client, "/connect/")
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def count(app: Flask, model) -> int:
    """Count the rows of a table."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def connection_form(**fields) -> dict:
    """Return a valid connection form post."""
    return {"name": "Simulator B", "adapter": "Simulator", "method": "Credit Card", **fields}


def flow_form(connection_id: str, **fields) -> dict:
    """Return a valid flow form post."""
    return {
        "name": "Second flow",
        "transaction_types": ["initial_debit", "refund"],
        "default_connection_id": connection_id,
        "retries": "3",
        "expiry_hours": "24",
        **fields,
    }


# ----------------------------------------------------------------------------- permissions


def mutating_requests(w: dict[str, str]) -> list[tuple[str, str]]:
    """Every endpoint that changes data, or shows a form to change it."""
    b, c = w["base"], f"/connect/customers/{w['customer']}"
    co, fl = f"{b}/connections/{w['connection']}", f"{b}/flows/{w['flow']}"
    return [
        ("GET", "/connect/customers/new"),
        ("POST", "/connect/customers"),
        ("GET", f"{c}/integrations/new"),
        ("POST", f"{c}/integrations"),
        ("GET", f"{b}/edit"),
        ("POST", b),
        ("GET", f"{b}/delete"),
        ("POST", f"{b}/delete"),
        ("GET", f"{b}/connections/new"),
        ("POST", f"{b}/connections"),
        ("GET", f"{co}/edit"),
        ("POST", co),
        ("POST", f"{co}/enable"),
        ("POST", f"{co}/disable"),
        ("GET", f"{co}/delete"),
        ("POST", f"{co}/delete"),
        ("GET", f"{b}/flows/new"),
        ("POST", f"{b}/flows"),
        ("GET", f"{fl}/edit"),
        ("POST", fl),
        ("GET", f"{fl}/delete"),
        ("POST", f"{fl}/delete"),
    ]


def test_every_connect_endpoint_is_covered_by_the_permission_tests(app: Flask, world) -> None:
    # The FlexCharge tab's endpoints have their own list (tests/web/test_flexcharge_tab.py).
    rules = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("connect.")
        and app.view_functions[rule.endpoint].__module__ != "portal.connect.flexcharge_views"
    }
    readers = {"connect.index", "connect.customer", "connect.integration"}
    assert len(rules - readers) == len(mutating_requests(world))


def test_viewers_get_403_on_every_mutating_endpoint(app: Flask, client, login, world) -> None:
    login("viewer")
    for method, url in mutating_requests(world):
        response = client.get(url) if method == "GET" else post(client, url, {"name": "x"})
        assert response.status_code == 403, (method, url)
    assert count(app, Integration) == 3 and count(app, Connection) == 2


def test_anonymous_users_are_sent_to_sign_in(client, world) -> None:
    for method, url in [
        ("GET", "/connect/"),
        ("GET", f"/connect/customers/{world['customer']}"),
        ("GET", world["base"]),
        *mutating_requests(world),
    ]:
        response = client.open(url, method=method)
        assert response.status_code in (302, 303, 400), (method, url)
        if response.status_code != 400:  # a POST without a token is refused by CSRF first
            assert "/login" in response.headers["Location"]


def test_viewers_read_without_change_controls(client, login, world) -> None:
    login("viewer")
    body = client.get(world["base"]).get_data(as_text=True)
    assert "Visa link" in body and "Primary" in body and "Main flow" in body
    for control in ("Add Integration", "Add Connection", "Add Flow", ">Edit<", ">Delete<"):
        assert control not in body


# ------------------------------------------------------------------------------- customers


def test_customers_list_searches_as_you_type_with_an_htmx_fragment(client, login, world) -> None:
    login("editor")
    page = client.get("/connect/").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert "Acme Payer" in page and "Other Payer" in page
    response = client.get("/connect/?q=acme", headers=HTMX)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="customers-results"')
    assert "Acme Payer" in body and "Other Payer" not in body
    assert "HX-Request" in response.headers["Vary"]
    by_id = client.get(f"/connect/?q={world['other_customer'][:15]}").get_data(as_text=True)
    assert "Other Payer" in by_id and "Acme Payer" not in by_id


@pytest.mark.parametrize(
    "term", ['"', 'say "hi', "near AND (", "pay*", "^x:y", "100%", "x" * 10_000, "ME-" * 40]
)
def test_customers_search_takes_any_text_as_text(client, login, world, term) -> None:
    """FTS5 query syntax and very long terms are searched for literally, never a 500."""
    login("viewer")
    response = client.get("/connect/", query_string={"q": term}, headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="customers-results"')
    assert "Acme Payer" not in body and "Other Payer" not in body


def test_customers_list_pages_with_next_and_previous(app, client, login) -> None:
    login("editor")
    with app.app_context():
        for index in range(30):
            factories.make_customer(f"Customer {index:02d}")
    first = client.get("/connect/").get_data(as_text=True)
    assert "Customer 24" in first and "Customer 25" not in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    next_url = re.search(r'href="([^"]*after=\d+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert "Customer 25" in second and "Customer 29" in second and "Customer 24" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_add_customer_lands_on_its_page(app, client, login) -> None:
    login("editor")
    form = client.get("/connect/customers/new").get_data(as_text=True)
    assert "Default Company" in form
    with app.app_context():
        company_id = factories.customers.default_company().id
    response = post(client, "/connect/customers", {"name": "New Payer", "company_id": company_id})
    assert response.status_code == 303
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.name == "New Payer"))
        assert response.headers["Location"].endswith(f"/connect/customers/{customer.public_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Customer created." in page and "New Payer" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "company_id": "1"}, "name", "Name is required."),
        ({"name": "x" * 201, "company_id": "1"}, "name", "Name must be at most 200 characters."),
        ({"name": "Payer", "company_id": "999999"}, "company_id", "Choose a company"),
    ],
)
def test_add_customer_refuses_bad_input_next_to_the_field(
    app, client, login, data, field, message
) -> None:
    login("editor")
    response = post(client, "/connect/customers", data, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="field-{field.replace("_", "-")}-error"' in body and message in body
    assert count(app, Customer) == 0


def test_names_are_escaped(app, client, login) -> None:
    login("editor")
    with app.app_context():
        factories.make_customer("<img src=x onerror=alert(1)>")
    body = client.get("/connect/").get_data(as_text=True)
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_unknown_customer_is_404(client, login) -> None:
    login("viewer")
    assert client.get("/connect/customers/ME-0000-0000-0000-0000-0000-0000").status_code == 404


# ---------------------------------------------------------------------------- integrations


def test_add_integration_form_shows_type_disabled_on_design(client, login, world) -> None:
    login("editor")
    body = client.get(
        f"/connect/customers/{world['customer']}/integrations/new", headers=HTMX
    ).get_data(as_text=True)
    assert "Integration Name" in body and "Network" in body
    assert 'name="type" disabled' in body
    assert '<option value="design" selected>Design</option>' in body and "Live" not in body


def test_add_integration_lands_on_the_customer_integration_page(app, client, login, world):
    login("editor")
    url = f"/connect/customers/{world['customer']}/integrations"
    response = post(client, url, {"name": "Amex link", "network": "Amex"}, headers=HTMX)
    assert response.status_code == 204
    location = response.headers["HX-Redirect"]
    page = client.get(location).get_data(as_text=True)
    assert "Integration created." in page
    assert "<h1>Amex link</h1>" in page and "Design" in page


@pytest.mark.services
def test_duplicate_network_is_refused_next_to_the_field(app, client, login, world) -> None:
    login("editor")
    url = f"/connect/customers/{world['customer']}/integrations"
    response = post(client, url, {"name": "Again", "network": "visa"}, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="field-network-error"' in body
    assert "already has an integration for the network" in body
    assert count(app, Integration) == 3


def test_missing_integration_name_is_refused(app, client, login, world) -> None:
    login("editor")
    url = f"/connect/customers/{world['customer']}/integrations"
    response = post(client, url, {"name": " ", "network": "Amex"})
    assert response.status_code == 422
    assert "Name is required." in response.get_data(as_text=True)
    assert count(app, Integration) == 3


def test_edit_renames_and_goes_live_once_a_connection_is_enabled(app, client, login, world):
    login("editor")
    form = client.get(world["base"] + "/edit").get_data(as_text=True)
    assert '<option value="live"' in form  # it has an enabled connection
    response = post(client, world["base"], {"name": "Visa renamed", "type": "live"})
    assert response.status_code == 303
    page = client.get(world["base"]).get_data(as_text=True)
    assert "Integration updated." in page and "<h1>Visa renamed</h1>" in page and "Live" in page
    second = f"/connect/customers/{world['customer']}/integrations/{world['second']}"
    form = client.get(second + "/edit").get_data(as_text=True)
    assert 'name="type" disabled' in form
    response = post(client, second, {"name": "MC", "type": "live"}, headers=HTMX)
    assert response.status_code == 422
    assert "at least one enabled connection" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Integration, int(world["second"])).type == "design"


def test_delete_confirmation_counts_what_goes_and_deletes_it_all(app, client, login, world):
    login("editor")
    with app.app_context():
        integration = db.session.get(Integration, int(world["integration"]))
        spare = [factories.make_connection(integration) for _ in range(2)]
        factories.make_flow(integration, spare[0])
    body = client.get(world["base"] + "/delete", headers=HTMX).get_data(as_text=True)
    assert "also deletes all its flows and connections" in body  # seed 000's caution
    assert "3 connections and 2 flows will be deleted" in body
    assert ">Delete Integration</button>" in body
    response = post(client, world["base"] + "/delete")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Integration deleted" in page and ">Visa link</a>" not in page
    assert count(app, Integration) == 2
    assert count(app, Connection) == 1 and count(app, Flow) == 1  # the other customer's


# ------------------------------------------------------------------------------ isolation


def test_ids_from_another_customer_or_integration_are_404(client, login, world) -> None:
    login("admin")
    c, o = world["customer"], world["other_customer"]
    b = world["base"]
    not_found = [
        f"/connect/customers/{o}/integrations/{world['integration']}",
        f"/connect/customers/{c}/integrations/{world['other_integration']}",
        f"{b}/connections/{world['other_connection']}/edit",
        f"{b}/flows/{world['other_flow']}/edit",
        f"{b}/connections/not-an-id/edit",
    ]
    for url in not_found:
        assert client.get(url).status_code == 404, url
    assert post(client, f"{b}/connections/{world['other_connection']}/delete").status_code == 404
    assert post(client, f"{b}/flows/{world['other_flow']}/delete").status_code == 404


def test_a_flow_pointing_at_another_integrations_connection_is_404(app, client, login, world):
    login("editor")
    response = post(client, world["base"] + "/flows", flow_form(world["other_connection"]))
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Choose a connection of this integration" in body
    assert count(app, Flow) == 2


# ----------------------------------------------------------------------------- connections


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "ab"}, "name", "Name must be at least 3 characters."),
        ({"adapter": ""}, "adapter", "Adapter is required."),
        ({"business_country": "at"}, "business_country", "ISO 3166-1 alpha-2"),
        ({"language": "DE"}, "language", "ISO 639-1"),
        ({"shared_secret": "s" * 51}, "shared_secret", "at most 50 characters"),
        (
            {"disabled_transaction_types": ["refund", "teleport"]},
            "disabled_transaction_types",
            "Unknown transaction type: teleport.",
        ),
        ({"postback_format": "yaml"}, "postback_format", "inherit, json, xml"),
        ({"settings": "no equals sign"}, "settings", "key=value"),
        ({"extra_data": "a=1\na=2"}, "extra_data", "more than once"),
        ({"terminals": "T1\nT1"}, "terminals", "listed more than once"),
    ],
)
def test_connection_validation_shows_messages_and_saves_nothing(
    app, client, login, world, fields, field, message
) -> None:
    login("editor")
    response = post(client, world["base"] + "/connections", connection_form(**fields), headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="field-{field.replace("_", "-")}-error"' in body
    assert message in body
    assert count(app, Connection) == 2


def test_duplicate_connection_name_is_refused(app, client, login, world) -> None:
    login("editor")
    response = post(client, world["base"] + "/connections", connection_form(name="Primary"))
    assert response.status_code == 422
    assert "already has a connection named" in response.get_data(as_text=True)
    assert count(app, Connection) == 2


def test_add_connection_with_every_field_and_show_secrets_masked(app, client, login, world):
    login("editor")
    data = connection_form(
        api_key="sim-connector-b",
        public_integration_key="4nhDxztY3bBeozkyd7Zs",
        shared_secret="V0WkgQPsHAUH4iXCsqWGYDeFKc4O6G",
        business_country="DE",
        description="My test Connector",
        username="new-uname",
        password="new-password-123",
        api_secret="new-sikret-longer",
        language="de",
        test_mode="y",
        extra_data="setting=test",
        disabled_transaction_types=["refund"],
        postback_format="json",
        scheduler_enabled="y",
        alias="default",
        terminals="ID-0001\nID-0002, disabled",
        settings="tx:expiration-minutes=100",
    )
    response = post(client, world["base"] + "/connections", data)
    assert response.status_code == 303
    with app.app_context():
        connection = db.session.scalar(select(Connection).where(Connection.name == "Simulator B"))
        assert connection.terminals == [
            {"terminal_id": "ID-0001", "disabled": False},
            {"terminal_id": "ID-0002", "disabled": True},
        ]
        assert connection.extra_data == {"setting": "test"}
        assert connection.settings == {"tx:expiration-minutes": "100"}
        assert connection.test_mode and connection.scheduler_enabled
        assert not connection.virtual_terminal_enabled
        assert connection.postback_format == "json"
        public_id = connection.public_id
    page = client.get(world["base"]).get_data(as_text=True)
    assert "Connection created." in page and "...4O6G" in page
    assert "V0WkgQPsHAUH4iXCsqWGYDeFKc4O6G" not in page
    form = client.get(f"{world['base']}/connections/{public_id}/edit").get_data(as_text=True)
    for plaintext in ("V0WkgQPsHAUH4iXCsqWGYDeFKc4O6G", "new-password-123", "new-sikret-longer"):
        assert plaintext not in form
    assert "Stored: ...-123. Leave empty to keep it." in form
    assert 'value="ID-0002, disabled"' not in form and "ID-0002, disabled" in form


def test_edit_with_empty_secrets_keeps_them(app, client, login, world) -> None:
    login("editor")
    url = f"{world['base']}/connections/{world['connection']}"
    with app.app_context():
        before = db.session.scalar(
            select(Connection.password_encrypted).where(Connection.public_id == world["connection"])
        )
    response = post(client, url, connection_form(name="Primary", username="asmith"))
    assert response.status_code == 303
    with app.app_context():
        connection = db.session.scalar(
            select(Connection).where(Connection.public_id == world["connection"])
        )
        assert connection.name == "Primary" and connection.adapter == "Simulator"
        assert connection.password_encrypted == before


def connection_row(app: Flask, public_id: str) -> dict:
    """Return the stored columns of a connection."""
    with app.app_context():
        connection = db.session.scalar(select(Connection).where(Connection.public_id == public_id))
        return {c.name: getattr(connection, c.name) for c in Connection.__table__.columns}


@pytest.fixture
def configured(app: Flask, world) -> str:
    """Add a connection with every flag on and every optional field filled."""
    with app.app_context():
        integration = db.session.get(Integration, int(world["integration"]))
        return factories.make_connection(
            integration,
            name="Configured",
            public_integration_key="4nhDxztY3bBeozkyd7Zs",
            business_country="AT",
            description="My test Connector",
            config={
                "username": "asmith",
                "password": "supersecure1",
                "api_secret": "ljkllLkklmKLlk3",
                "language": "de",
                "test_mode": True,
                "extra_data": {"setting": "test"},
            },
            disabled_transaction_types=["refund"],
            postback_format="xml",
            scheduler_enabled=True,
            virtual_terminal_enabled=True,
            alias="default",
            terminals=[
                {
                    "terminal_id": "ID-0001",
                    "disabled": True,
                    "stan": "123456",
                    "capture_reference": "CR-77",
                }
            ],
            settings={"tx:expiration-minutes": "900"},
        ).public_id


def test_edit_keeps_every_field_the_post_does_not_carry(app, client, login, world, configured):
    login("editor")
    before = connection_row(app, configured)
    response = post(client, f"{world['base']}/connections/{configured}", {"name": "Renamed"})
    assert response.status_code == 303
    after = connection_row(app, configured)
    assert (after.pop("name"), after.pop("name_key")) == ("Renamed", "renamed")
    before.pop("name"), before.pop("name_key"), before.pop("updated_at"), after.pop("updated_at")
    assert after == before


def test_edit_of_the_terminals_keeps_what_the_api_set_on_them(
    app, client, login, world, configured
) -> None:
    """The form shows terminal ids only; their STAN and capture reference survive an edit."""
    login("editor")
    url = f"{world['base']}/connections/{configured}"
    form = client.get(url + "/edit").get_data(as_text=True)
    assert "123456" not in form and "CR-77" not in form
    response = post(client, url, {"terminals": "ID-0001\nID-0002, disabled"})
    assert response.status_code == 303
    assert connection_row(app, configured)["terminals"] == [
        {
            "terminal_id": "ID-0001",
            "disabled": False,
            "stan": "123456",
            "capture_reference": "CR-77",
        },
        {"terminal_id": "ID-0002", "disabled": True},
    ]


def test_edit_turns_off_only_the_checkboxes_the_user_unchecked(
    app, client, login, world, configured
) -> None:
    login("editor")
    url = f"{world['base']}/connections/{configured}"
    form = client.get(url + "/edit").get_data(as_text=True)
    # Each checkbox and checkbox group carries a hidden empty companion of its name.
    for name in ("test_mode", "scheduler_enabled", "disabled_transaction_types"):
        assert f'<input type="hidden" name="{name}" value="">' in form
    # The browser posts only the companion of an unchecked box, and both for a checked one.
    data = {"test_mode": "", "scheduler_enabled": ["", "y"], "disabled_transaction_types": ""}
    assert post(client, url, data).status_code == 303
    row = connection_row(app, configured)
    assert row["test_mode"] is False and row["disabled_transaction_types"] == []
    assert row["scheduler_enabled"] is True and row["virtual_terminal_enabled"] is True


def test_a_refused_edit_asks_to_type_the_new_secret_again(app, client, login, world, configured):
    login("editor")
    before = connection_row(app, configured)
    url = f"{world['base']}/connections/{configured}"
    data = {"password": "typed-new-password", "business_country": "at", "alias": "typed alias"}
    response = post(client, url, data, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="field-business-country-error"' in body
    assert 'id="field-password-error"' in body and "Enter it again" in body
    assert 'id="field-api-secret-error"' not in body  # nothing was typed there
    assert "typed-new-password" not in body
    assert 'value="at"' in body and 'value="typed alias"' in body  # what the user typed
    assert connection_row(app, configured) == before


def test_disable_and_enable_swap_the_row(app, client, login, world) -> None:
    login("editor")
    url = f"{world['base']}/connections/{world['connection']}"
    response = post(client, url + "/disable", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="connection-{world["connection"]}"')
    assert "Disabled" in body and "Connection “Primary” disabled." in body
    assert "Enabled" in post(client, url + "/enable", headers=HTMX).get_data(as_text=True)


def test_a_connection_used_by_a_flow_is_not_deletable(app, client, login, world) -> None:
    login("editor")
    url = f"{world['base']}/connections/{world['connection']}/delete"
    confirm = client.get(url, headers=HTMX).get_data(as_text=True)
    assert "is the default connection of “Main flow”" in confirm
    assert "Delete Connection" not in confirm
    response = post(client, url)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose another default connection" in page
    assert count(app, Connection) == 2


def test_delete_an_unused_connection(app, client, login, world) -> None:
    login("editor")
    with app.app_context():
        integration = db.session.get(Integration, int(world["integration"]))
        spare = factories.make_connection(integration, name="Spare").public_id
    url = f"{world['base']}/connections/{spare}/delete"
    assert "Delete Connection" in client.get(url).get_data(as_text=True)
    response = post(client, url)
    assert response.status_code == 303
    assert "Connection “Spare” deleted." in client.get(world["base"]).get_data(as_text=True)
    assert count(app, Connection) == 2


# ----------------------------------------------------------------------------------- flows


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"retries": "10"}, "retries", "Retries must be between 0 and 9."),
        ({"retries": "-1"}, "retries", "Retries must be between 0 and 9."),
        ({"retries": "two"}, "retries", "whole number"),
        ({"expiry_hours": "9000"}, "expiry_hours", "Expiry hours must be between 0 and 8760."),
        ({"transaction_types": []}, "transaction_types", "Select at least one transaction type."),
        (
            {"transaction_types": ["teleport"]},
            "transaction_types",
            "Unknown transaction type: teleport.",
        ),
        ({"name": ""}, "name", "Name is required."),
        ({"default_connection_id": ""}, "default_connection_id", "Default connection is required"),
    ],
)
def test_flow_validation_shows_messages_and_saves_nothing(
    app, client, login, world, fields, field, message
) -> None:
    login("editor")
    data = flow_form(world["connection"], **fields)
    response = post(client, world["base"] + "/flows", data, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="field-{field.replace("_", "-")}-error"' in body and message in body
    assert count(app, Flow) == 2


def test_add_edit_and_delete_a_flow(app, client, login, world) -> None:
    login("editor")
    response = post(client, world["base"] + "/flows", flow_form(world["connection"]))
    assert response.status_code == 303
    page = client.get(world["base"]).get_data(as_text=True)
    assert "Flow created." in page and "Second flow" in page and "initial_debit, refund" in page
    with app.app_context():
        flow = db.session.scalar(select(Flow).where(Flow.name == "Second flow"))
        flow_id = flow.id
    url = f"{world['base']}/flows/{flow_id}"
    form = client.get(url + "/edit").get_data(as_text=True)
    assert 'value="3"' in form
    edited = flow_form(world["connection"], name="Renamed flow", retries="9")
    assert post(client, url, edited).status_code == 303
    assert "Renamed flow" in client.get(world["base"]).get_data(as_text=True)
    assert post(client, url + "/delete").status_code == 303
    assert "Flow “Renamed flow” deleted." in client.get(world["base"]).get_data(as_text=True)
    assert count(app, Flow) == 2


def test_flow_edit_keeps_every_field_the_post_does_not_carry(app, client, login, world):
    login("editor")
    with app.app_context():
        integration = db.session.get(Integration, int(world["integration"]))
        connection = db.session.scalar(
            select(Connection).where(Connection.public_id == world["connection"])
        )
        flow = factories.make_flow(
            integration,
            connection,
            name="Recurring",
            transaction_types=["recurring_debit", "refund"],
            re_route_recurring=True,
            retries=4,
            expiry_hours=48,
        )
        flow_id = flow.id
    url = f"{world['base']}/flows/{flow_id}"
    assert post(client, url, {"name": "Recurring renamed"}).status_code == 303
    with app.app_context():
        flow = db.session.get(Flow, flow_id)
        assert flow.name == "Recurring renamed"
        assert flow.transaction_types == ["recurring_debit", "refund"]
        assert (flow.re_route_recurring, flow.retries, flow.expiry_hours) == (True, 4, 48)
    assert post(client, url, {"re_route_recurring": ""}).status_code == 303
    with app.app_context():
        assert db.session.get(Flow, flow_id).re_route_recurring is False


# ----------------------------------------------------------------------------------- audit


def test_every_change_writes_one_audit_event(app, client, login, world) -> None:
    login("editor")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    post(client, world["base"], {"name": "Renamed"})
    post(client, world["base"] + "/connections", connection_form(password="pw-123456789012"))
    post(client, f"{world['base']}/connections/{world['connection']}/disable")
    with app.app_context():
        recorded = list(
            db.session.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(before))
        )
    actions = [e.action for e in recorded if e.action != "auth.sign_in"]
    assert actions == ["integration.update", "connection.create", "connection.disable"]
    assert all(e.actor_label.startswith("editor") for e in recorded)
    assert "pw-123456789012" not in str([e.changes for e in recorded])


def test_a_connection_whose_secrets_cannot_be_decrypted_can_still_be_opened_and_fixed(
    database_url: str,
) -> None:
    for app in fresh_app(database_url):
        with app.app_context():
            connection = factories.make_connection(config={"password": "supersecure1"})
            customer_id = connection.integration.customer.public_id
            base = f"/connect/customers/{customer_id}/integrations/{connection.integration_id}"
            connection_id = connection.public_id
    # The encryption key was lost: the portal now runs with another one.
    lost = create_app(overrides(database_url, ENCRYPTION_KEYS=Fernet.generate_key().decode()))
    client = lost.test_client()
    with lost.app_context():
        email = factories.make_user("editor").email
    sign_in(client, email)
    page = client.get(base)
    assert page.status_code == 200
    assert "cannot be decrypted" in page.text
    form = client.get(f"{base}/connections/{connection_id}/edit")
    assert form.status_code == 200
    assert "cannot be decrypted with the configured encryption keys: enter it again" in form.text
    token = csrf_token(client, base)
    saved = client.post(
        f"{base}/connections/{connection_id}",
        data={
            "password": "a new secret 1",
            "shared_secret": "a new shared secret",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303
    assert "cannot be decrypted" not in client.get(base).text
    with lost.app_context():
        row = db.session.get(Connection, connection.id)
        assert secret_box().decrypt(row.password_encrypted) == "a new secret 1"
        db.session.remove()
        db.engine.dispose()
