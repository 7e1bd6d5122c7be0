"""A customer's "FlexCharge" tab: who may do what, and what each form does."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import FlexChargeCredentials, FlexChargeSite
from portal.services import customers
from portal.services import flexcharge_merchants as merchants
from tests import factories
from tests.support.flexcharge import (
    WEBHOOK_KEY,
    app_on_fake_flexcharge,  # noqa: F401 (a fixture)
    bearer,
    fake_flexcharge,  # noqa: F401 (a fixture)
    onboard,
    run_jobs,
    site_of,
    transaction_body,
)
from tests.support.web import csrf_token

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    """An onboarded merchant with one site, and another customer with a site."""
    with app.app_context():
        merchant = onboard(factories.make_customer("Acme Shop"))
        site = site_of(merchant, "https://shop.example.com")
        other = onboard(factories.make_customer("Other Shop"))
        tab = f"/connect/customers/{merchant.public_id}/flexcharge"
        return {
            "merchant": merchant.public_id,
            "tab": tab,
            "site": f"{tab}/sites/{site.id}",
            "other_site_id": str(site_of(other, "https://shop.example.com").id),
        }


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs):
    """Post a form with its CSRF token."""
    token = csrf_token(client, "/connect/")
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def mutating_requests(w: dict[str, str]) -> list[tuple[str, str]]:
    """Every endpoint of the tab that changes data, or shows a form to change it."""
    t, s = w["tab"], w["site"]
    return [
        ("POST", f"{t}/enable"),
        ("POST", f"{t}/disable"),
        ("POST", f"{t}/profiles"),
        ("GET", f"{t}/credentials/sandbox/edit"),
        ("POST", f"{t}/credentials/sandbox"),
        ("GET", f"{t}/sites/new"),
        ("POST", f"{t}/sites"),
        ("GET", f"{s}/edit"),
        ("POST", s),
        ("POST", f"{s}/enable"),
        ("POST", f"{s}/disable"),
        ("GET", f"{s}/delete"),
        ("POST", f"{s}/delete"),
    ]


def test_every_tab_endpoint_is_covered_by_the_permission_tests(app: Flask, world) -> None:
    rules = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if app.view_functions[rule.endpoint].__module__ == "portal.connect.flexcharge_views"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert len(rules - {("GET", "connect.flexcharge")}) == len(mutating_requests(world))


def test_viewers_read_the_tab_and_get_403_on_every_change(app, client, login, world) -> None:
    login("viewer")
    page = client.get(world["tab"]).get_data(as_text=True)
    assert "Enabled" in page and "CIT - website" in page and "Sandbox" in page
    assert "https://shop.example.com" in page and "SHOP EXAMPLE" in page
    for control in (
        "Enable FlexCharge",
        "Disable FlexCharge",
        "Save profiles",
        "Add site",
        "Retry now",
    ):
        assert control not in page
    for method, url in mutating_requests(world):
        response = client.get(url) if method == "GET" else post(client, url)
        assert response.status_code == 403, (method, url)
    with app.app_context():
        assert merchants.setup_of(customers.get_customer(world["merchant"])).enabled


def test_anonymous_users_are_sent_to_sign_in(client, world) -> None:
    for method, url in [("GET", world["tab"]), *mutating_requests(world)]:
        response = client.open(url, method=method)
        assert response.status_code in (302, 303, 400), (method, url)


def test_the_tab_shows_who_enabled_flexcharge_and_secrets_only_masked(
    app, client, login, world
) -> None:
    login("editor")
    with app.app_context():
        customer = factories.make_customer("Fresh")
        url = f"/connect/customers/{customer.public_id}/flexcharge"
    page = client.get(url).get_data(as_text=True)
    assert "Transactions of this merchant are recorded but not sent" in page
    response = post(client, f"{url}/enable")
    assert response.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "FlexCharge enabled for Fresh." in page
    assert "Enabled</span> by editor" in page
    page = client.get(world["tab"]).get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(
            select(FlexChargeCredentials).where(FlexChargeCredentials.environment == "sandbox")
        )
        assert row.app_secret_mask in page
    assert WEBHOOK_KEY not in page and "app-secret-" not in page


def test_profiles_are_saved_together_and_refused_values_change_nothing(
    app, client, login, world
) -> None:
    login("editor")
    data = {"cit_website": "production", "cit_call_center": "sandbox", "mit": "off"}
    response = post(client, f"{world['tab']}/profiles", data, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == world["tab"]
    assert "Profiles saved." in client.get(world["tab"]).get_data(as_text=True)
    bad = post(client, f"{world['tab']}/profiles", {**data, "mit": "live"})
    assert bad.status_code == 303
    assert "Choose Off, Sandbox or Production." in client.get(world["tab"]).get_data(as_text=True)
    with app.app_context():
        setup = merchants.setup_of(customers.get_customer(world["merchant"]))
        assert (setup.settings.cit_website, setup.settings.cit_call_center, setup.settings.mit) == (
            "production",
            "sandbox",
            "off",
        )


def test_credentials_dialog_verifies_and_asks_to_retype_after_a_refusal(
    app, client, login, world, fake
) -> None:
    login("editor")
    url = f"{world['tab']}/credentials/production"
    dialog = client.get(f"{url}/edit", headers=HTMX).get_data(as_text=True)
    assert 'id="credentials-form-dialog"' in dialog and "Leave empty to keep it." in dialog
    refused = post(
        client,
        url,
        {
            "mid": "0ba84f6e-1b2c-4d5e-8f90-123456789abc",
            "app_key": "k",
            "app_secret": "denied-1",
            "tokenization_key": "tok",
        },
        headers=HTMX,
    )
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "FlexCharge Production refused the App key and App secret (400)" in body
    assert "Enter it again" in body and "denied-1" not in body
    fake.refuse_connections()
    unreachable = post(
        client, url, {"mid": "0ba84f6e-1b2c-4d5e-8f90-123456789abc", "app_key": "k"}, headers=HTMX
    )
    assert unreachable.status_code == 422
    assert "could not verify the credentials: it refused the connection" in unreachable.get_data(
        as_text=True
    )
    fake.accept_connections()
    bad_mid = post(client, url, {"mid": "nope", "app_key": "k"}, headers=HTMX)
    assert "MID must be a GUID" in bad_mid.get_data(as_text=True)
    saved = post(
        client, url, {"mid": "0ba84f6e-1b2c-4d5e-8f90-123456789abc", "app_key": "k2"}, headers=HTMX
    )
    assert saved.status_code == 204
    with app.app_context():
        assert (
            db.session.scalar(
                select(FlexChargeCredentials.app_key).where(
                    FlexChargeCredentials.environment == "production"
                )
            )
            == "k2"
        )
    assert client.get(f"{world['tab']}/credentials/staging/edit").status_code == 404


def test_sites_are_added_edited_switched_and_deleted(app, client, login, world) -> None:
    login("editor")
    added = post(
        client,
        f"{world['tab']}/sites",
        {"url": "https://second.example.com", "descriptor": "SECOND", "enabled": ["", "y"]},
    )
    assert added.status_code == 303
    clash = post(
        client,
        f"{world['tab']}/sites",
        {"url": "https://shop.example.com/x", "descriptor": "THIRD"},
        headers=HTMX,
    )
    assert clash.status_code == 422 and "already has the host shop.example.com" in clash.get_data(
        as_text=True
    )
    switched = post(client, f"{world['site']}/disable", headers=HTMX)
    assert switched.status_code == 200
    assert switched.get_data(as_text=True).lstrip().startswith('<tr id="site-')
    assert "Switch on" in switched.get_data(as_text=True)
    edited = post(
        client,
        world["site"],
        {"url": "https://shop.example.com", "descriptor": "SHOP RENAMED", "enabled": [""]},
    )
    assert edited.status_code == 303
    ask = client.get(f"{world['site']}/delete", headers=HTMX)
    assert "Delete site https://shop.example.com?" in ask.get_data(as_text=True)
    assert post(client, f"{world['site']}/delete").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FlexChargeSite)) == 2
    # Another customer's site, under this customer's URL, answers 404.
    other = f"{world['tab']}/sites/{world['other_site_id']}"
    assert client.get(f"{other}/edit").status_code == 404
    assert post(client, f"{other}/disable").status_code == 404


def test_failed_deliveries_show_on_the_tab_with_retry_now(app, client, login, world, fake) -> None:
    with app.app_context():
        key = factories.make_api_key("CRM", "sandbox").plaintext
    fake.fail("/transmit", 400)
    client.post(
        "/api/v1/transactions", json=transaction_body(world["merchant"]), headers=bearer(key)
    )
    run_jobs(app)
    login("editor")
    page = client.get(world["tab"]).get_data(as_text=True)
    assert "Retry now" in page and "refused the request (400" in page
