"""System > External Integrations over HTTP: pages, errors, permissions, no secret rendered."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, ExternalIntegration
from tests import factories
from tests.support.apps import overrides
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_app import closed_port_url, stripe_app, stripe_key
from tests.support.web import csrf_token, sign_in

BASE = "/system/external-integrations"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def app(database_url: str, fake: FakeStripe) -> Iterator[Flask]:
    """Return an app whose key checks go to the fake Stripe."""
    yield from stripe_app(database_url, fake.base_url)


@pytest.fixture
def admin(login) -> int:
    """Sign the client in as an admin."""
    return login("admin")


def make(app: Flask, name: str = "Main", secret: str | None = None, active: bool = True) -> int:
    with app.app_context():
        factories.setup_account()
        return factories.make_external_integration(name, secret, active=active).id


def count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ExternalIntegration))


def audit_actions(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        query = (
            select(AuditEvent.action, AuditEvent.outcome)
            .where(AuditEvent.object_type == "ExternalIntegration")
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in db.session.execute(query)]


def post_create(client: FlaskClient, **fields) -> object:
    data = {
        "provider": "stripe",
        "name": "Main",
        "secret": stripe_key(),
        "active": "y",
        "csrf_token": csrf_token(client, BASE + "/"),
        **fields,
    }
    return client.post(BASE + "/", data=data, headers=HTMX)


def test_the_list_shows_provider_name_mode_masked_key_status_and_no_secret(app, client, admin):
    test_key, live_key = stripe_key(), stripe_key(prefix="sk_live_")
    make(app, "Payments", test_key, active=True)
    make(app, "Payouts", live_key, active=False)
    response = client.get(BASE + "/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "<h1>External Integrations</h1>" in page
    assert "Add Integration" in page
    for name, key, mode, status in (
        ("Payments", test_key, "Test", "Active"),
        ("Payouts", live_key, "Live", "Inactive"),
    ):
        row = re.search(
            rf'<tr id="external-integration-\d+">(?:(?!</tr>).)*{name}.*?</tr>', page, re.S
        )
        assert row, name
        text = row.group(0)
        assert "Stripe" in text and mode in text and f">{status}<" in text
        assert f"{key[:8]}...{key[-4:]}" in text
        assert key not in page and key[8:] not in page


def test_the_add_form_lists_the_registered_providers(client, admin):
    response = client.get(BASE + "/new", headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="external-integration-form-dialog"' in page
    assert '<option value="stripe">Stripe</option>' in page
    for label in ("Integration", "Name", "Secret key", "Active", "Save Integration", "Cancel"):
        assert label in page
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in page
    assert "<html" in client.get(BASE + "/new").get_data(as_text=True)


def test_adding_saves_and_redirects_with_a_confirmation(app, client, admin):
    response = post_create(client, name="Main")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == BASE + "/"
    page = client.get(BASE + "/").get_data(as_text=True)
    assert "Stripe integration “Main” added." in page
    assert ">Active<" in page
    assert audit_actions(app) == [("external_integration.create", "success")]


def test_adding_without_javascript_redirects_with_303(client, admin):
    data = {
        "provider": "stripe",
        "name": "Main",
        "secret": stripe_key(),
        "csrf_token": csrf_token(client, BASE + "/"),
    }
    response = client.post(BASE + "/", data=data)
    assert response.status_code == 303
    assert ">Inactive<" in client.get(BASE + "/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("secret", "message", "audited"),
    [
        (
            "not-a-key",
            "The secret key is invalid. It must start with sk_ or rk_.",
            [("external_integration.create", "failure")],
        ),
        (
            stripe_key("denied"),
            "The secret key is invalid. Stripe rejected the key.",
            [("external_integration.create", "failure")],
        ),
    ],
)
def test_an_invalid_key_is_shown_next_to_the_field_and_nothing_is_saved(
    app, client, admin, secret, message, audited
):
    response = post_create(client, name="Kept name", secret=secret)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<small class="field-error" id="field-secret-error">{message}</small>' in page
    assert 'value="Kept name"' in page
    assert secret not in page
    assert count(app) == 0
    assert audit_actions(app) == audited


def test_a_malformed_key_is_reported_even_when_the_name_is_missing(app, client, admin, fake):
    page = post_create(client, name="", secret="sk_test_123").get_data(as_text=True)
    assert "Enter a name." in page
    assert "The secret key is invalid. It must have at least 24 letters or digits" in page
    assert fake.requests == []
    assert audit_actions(app) == [("external_integration.create", "failure")]


def test_an_unreachable_stripe_keeps_the_form_except_the_secret(app, client, admin):
    secret = stripe_key("boom")
    response = post_create(client, name="Kept name", secret=secret)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "Stripe could not be reached to verify the key (Stripe answered 500). "
        "The integration was not saved." in page
    )
    assert 'value="Kept name"' in page
    assert 'id="field-active" name="active" type="checkbox" role="switch" value="y" checked' in page
    assert secret not in page and secret[8:] not in page
    assert count(app) == 0


@pytest.mark.parametrize("reason", ["timed out after 1 s", "connection refused"])
def test_timeouts_and_refused_connections_are_unreachable(database_url, fake, reason):
    api_base = fake.base_url if reason.startswith("timed") else closed_port_url()
    for app in stripe_app(database_url, api_base):
        client = app.test_client()
        with app.app_context():
            factories.setup_account()
            email = factories.make_user("admin").email
        sign_in(client, email)
        response = post_create(client, secret=stripe_key("slow"))
        assert response.status_code == 422
        assert f"Stripe could not be reached to verify the key ({reason})." in response.get_data(
            as_text=True
        )
        assert count(app) == 0


def test_a_restricted_key_is_saved_with_a_warning_naming_the_missing_permission(app, client, admin):
    secret = stripe_key("noperm", prefix="rk_test_")
    assert post_create(client, name="Restricted", secret=secret).status_code == 204
    page = client.get(BASE + "/").get_data(as_text=True)
    assert "Stripe integration “Restricted” added." in page
    assert "Warning: this restricted key lacks the “rak_balance_read” permission." in page
    assert secret not in page
    assert count(app) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Enter a name."),
        ({"name": "x" * 101}, "name", "Name must be at most 100 characters."),
        ({"provider": "paypal"}, "provider", "Choose an integration from the list."),
        ({"provider": ""}, "provider", "Choose an integration from the list."),
        ({"secret": ""}, "secret", "Enter the secret key."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(app, client, admin, fake, fields, field, message):
    response = post_create(client, **fields)
    assert response.status_code == 422
    assert f'id="field-{field}-error">{message}</small>' in response.get_data(as_text=True)
    assert count(app) == 0
    assert fake.requests == []


def test_a_duplicate_name_is_refused(app, client, admin):
    make(app, "Main")
    response = post_create(client, name="main")
    assert response.status_code == 422
    assert "An external integration named “main” already exists." in response.get_data(as_text=True)
    assert count(app) == 1


def test_a_post_without_csrf_token_is_refused(app, client, admin):
    response = client.post(
        BASE + "/", data={"provider": "stripe", "name": "Main", "secret": stripe_key()}
    )
    assert response.status_code == 400
    assert count(app) == 0


def test_editing_with_an_empty_key_keeps_it_and_does_not_call_stripe(app, client, admin, fake):
    key = stripe_key()
    integration_id = make(app, "Main", key)
    form = client.get(f"{BASE}/{integration_id}/edit").get_data(as_text=True)
    assert f"sk_test_...{key[-4:]}" in form and key not in form
    calls = len(fake.requests)
    response = client.post(
        f"{BASE}/{integration_id}",
        data={"name": "Renamed", "secret": "", "csrf_token": csrf_token(client, BASE + "/")},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert len(fake.requests) == calls
    page = client.get(BASE + "/").get_data(as_text=True)
    assert "Stripe integration “Renamed” updated." in page
    assert f"sk_test_...{key[-4:]}" in page and ">Inactive<" in page


def test_editing_with_an_invalid_key_keeps_the_stored_one(app, client, admin):
    key = stripe_key()
    integration_id = make(app, "Main", key)
    response = client.post(
        f"{BASE}/{integration_id}",
        data={
            "name": "Renamed",
            "secret": "sk_test_bad",
            "active": "y",
            "csrf_token": csrf_token(client, BASE + "/"),
        },
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "The secret key is invalid." in response.get_data(as_text=True)
    page = client.get(BASE + "/").get_data(as_text=True)
    assert ">Main<" in page and f"...{key[-4:]}" in page
    assert audit_actions(app)[-1] == ("external_integration.update", "failure")
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.changes == {
            "provider": "stripe",
            "secret": "[redacted]",
            "verification": "malformed",
        }


def test_editing_with_stripe_unreachable_keeps_the_form_except_the_secret(app, client, admin):
    key = stripe_key()
    integration_id = make(app, "Main", key, active=False)
    new_key = stripe_key("boom")
    response = client.post(
        f"{BASE}/{integration_id}",
        data={
            "name": "Typed name",
            "secret": new_key,
            "active": "y",
            "csrf_token": csrf_token(client, BASE + "/"),
        },
        headers=HTMX,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "Stripe could not be reached to verify the key (Stripe answered 500). "
        "The changes were not saved." in page
    )
    assert 'value="Typed name"' in page
    assert 'id="field-active" name="active" type="checkbox" role="switch" value="y" checked' in page
    assert new_key not in page and new_key[8:] not in page
    with app.app_context():
        row = db.session.get(ExternalIntegration, integration_id)
        assert (row.name, row.active, row.secret_mask) == ("Main", False, f"sk_test_...{key[-4:]}")
    assert audit_actions(app)[-1] == ("external_integration.update", "failure")


def test_editing_with_a_restricted_key_saves_it_with_the_warning(app, client, admin):
    integration_id = make(app, "Main")
    new_key = stripe_key("noperm", prefix="rk_live_")
    response = client.post(
        f"{BASE}/{integration_id}",
        data={"name": "Main", "secret": new_key, "csrf_token": csrf_token(client, BASE + "/")},
        headers=HTMX,
    )
    assert response.status_code == 204
    page = client.get(BASE + "/").get_data(as_text=True)
    assert "Stripe integration “Main” updated." in page
    assert "Warning: this restricted key lacks the “rak_balance_read” permission." in page
    assert f"rk_live_...{new_key[-4:]}" in page and new_key not in page


def test_the_switch_toggles_in_place_with_a_confirmation(app, client, admin):
    integration_id = make(app, "Main", active=False)
    token = csrf_token(client, BASE + "/")
    response = client.post(
        f"{BASE}/{integration_id}/activate", data={"csrf_token": token}, headers=HTMX
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.startswith(f'\n<tr id="external-integration-{integration_id}">') or (
        f'<tr id="external-integration-{integration_id}">' in page
    )
    assert ">Active<" in page and "checked" in page
    assert 'hx-swap-oob="beforeend"' in page
    assert "Stripe integration “Main” activated." in page
    response = client.post(
        f"{BASE}/{integration_id}/deactivate", data={"csrf_token": token}, headers=HTMX
    )
    page = response.get_data(as_text=True)
    assert ">Inactive<" in page and "Stripe integration “Main” deactivated." in page
    assert audit_actions(app)[-2:] == [
        ("external_integration.activate", "success"),
        ("external_integration.deactivate", "success"),
    ]


def test_deleting_asks_first_then_removes(app, client, admin):
    integration_id = make(app, "Main")
    confirm = client.get(f"{BASE}/{integration_id}/delete", headers=HTMX).get_data(as_text=True)
    assert "Delete “Main”?" in confirm and "Delete integration" in confirm
    assert count(app) == 1
    response = client.post(
        f"{BASE}/{integration_id}/delete",
        data={"csrf_token": csrf_token(client, BASE + "/")},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert count(app) == 0
    assert "Stripe integration “Main” deleted." in client.get(BASE + "/").get_data(as_text=True)
    assert client.get(f"{BASE}/{integration_id}").status_code == 404


def test_the_details_page_shows_who_and_when_and_the_history(app, client, admin):
    key = stripe_key(prefix="sk_live_")
    integration_id = make(app, "Main", key, active=False)
    token = csrf_token(client, BASE + "/")
    client.post(f"{BASE}/{integration_id}/activate", data={"csrf_token": token})
    response = client.get(f"{BASE}/{integration_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    for text in ("<h1>Main</h1>", ">Active<", "Live", f"sk_live_...{key[-4:]}", "by system"):
        assert text in page
    assert "admin" in page  # the activation was by the signed-in admin
    # The history names actions for people, not by their codes.
    assert "Stripe integration added" in page and "External integration activated" in page
    assert "external_integration.create" not in page
    assert "[redacted]" in page
    assert key not in page


def test_verifying_a_key_that_cannot_be_decrypted_fails_closed(database_url, fake):
    for app in stripe_app(database_url, fake.base_url):
        integration_id = make(app, "Main")
    other_keys = Fernet.generate_key().decode()
    app = create_app(
        overrides(database_url, ENCRYPTION_KEYS=other_keys, STRIPE_API_BASE=fake.base_url)
    )
    client = app.test_client()
    with app.app_context():
        email = factories.make_user("admin").email
    sign_in(client, email)
    response = client.post(
        f"{BASE}/{integration_id}/verify",
        data={"csrf_token": csrf_token(client, BASE + "/")},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "The secret key of “Main” cannot be decrypted" in page
    assert len(fake.requests) == 1
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_verifying_the_stored_key_records_it(app, client, admin, fake):
    integration_id = make(app, "Main")
    response = client.post(
        f"{BASE}/{integration_id}/verify",
        data={"csrf_token": csrf_token(client, BASE + "/")},
        follow_redirects=True,
    )
    assert "Stripe accepted the secret key of “Main”." in response.get_data(as_text=True)
    assert len(fake.requests) == 2
    assert ("external_integration.verify", "success") in audit_actions(app)


def test_names_are_escaped(app, client, admin):
    make(app, "<img src=x onerror=alert(1)>")
    page = client.get(BASE + "/").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


# Permissions -------------------------------------------------------------------------------

ROUTES = [
    ("get", "/"),
    ("get", "/new"),
    ("post", "/"),
    ("get", "/{id}"),
    ("get", "/{id}/edit"),
    ("post", "/{id}"),
    ("get", "/{id}/delete"),
    ("post", "/{id}/delete"),
    ("post", "/{id}/activate"),
    ("post", "/{id}/deactivate"),
    ("post", "/{id}/verify"),
]


def test_every_endpoint_of_the_blueprint_is_covered(app):
    rules = {
        (method.lower(), rule.rule.removeprefix(BASE).replace("<int:integration_id>", "{id}"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("external_integrations.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == set(ROUTES)


@pytest.mark.parametrize("role", ["editor", "viewer"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_editors_and_viewers_get_403_and_change_nothing(app, client, login, role, method, path):
    integration_id = make(app, "Main", active=False)
    login(role)
    token = csrf_token(client, "/connect/")
    url = BASE + path.format(id=integration_id)
    data = {"csrf_token": token, "provider": "stripe", "name": "X", "secret": stripe_key()}
    response = getattr(client, method)(url, data=data if method == "post" else None)
    assert response.status_code == 403
    assert count(app) == 1
    assert [a for a, _ in audit_actions(app)] == ["external_integration.create"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_users_are_sent_to_sign_in(app, client, method, path):
    integration_id = make(app, "Main")
    with app.app_context():
        factories.make_user("admin")  # setup done: /login is the sign-in page
    url = BASE + path.format(id=integration_id)
    if method == "post":
        response = client.post(url, data={"csrf_token": csrf_token(client, "/login")})
    else:
        response = client.get(url)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]
    assert count(app) == 1


def test_an_edit_opened_from_the_details_page_returns_there(app, client, admin):
    integration_id = make(app)
    detail = f"{BASE}/{integration_id}"
    page = client.get(detail).get_data(as_text=True)
    edit_url = f"{BASE}/{integration_id}/edit?next={detail}"
    assert f'href="{edit_url}"' in page.replace("&amp;", "&")
    form = client.get(edit_url).get_data(as_text=True)
    assert f'name="next" value="{detail}"' in form
    data = {"name": "Renamed", "secret": "", "active": ["", "y"], "next": detail}
    data["csrf_token"] = csrf_token(client, BASE + "/")
    response = client.post(f"{BASE}/{integration_id}", data=data)
    assert response.status_code == 303 and response.headers["Location"] == detail
    # Another site, or a scheme-relative address, is no place to return to.
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        data["next"] = hostile
        response = client.post(f"{BASE}/{integration_id}", data=data)
        assert response.headers["Location"] == BASE + "/"


def test_a_refused_save_of_a_dialog_opened_as_a_page_shows_it_open_with_its_messages(client, admin):
    data = {
        "provider": "stripe",
        "name": "",
        "secret": "",
        "csrf_token": csrf_token(client, BASE + "/"),
    }
    response = client.post(BASE + "/", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<dialog id="external-integration-form-dialog" data-modal open' in page
    assert 'class="field-error"' in page and 'aria-invalid="true"' in page


def test_the_list_sorts_by_a_column_named_in_the_url(app, client, admin):
    make(app, "Zulu")
    make(app, "Alpha", active=False)
    page = client.get(BASE + "/?sort=-name").get_data(as_text=True)
    assert page.index("Zulu") < page.index("Alpha")
    assert 'aria-sort="descending"' in page
    by_status = client.get(BASE + "/?sort=status", headers={"HX-Request": "true"})
    body = by_status.get_data(as_text=True)
    assert body.startswith('<div id="external-integrations">')
    assert body.index("Alpha") < body.index("Zulu")  # inactive first
