"""Account Settings > Integrations > API keys, and the rules the whole section shares."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import ApiKey, AuditEvent, AutoRetry
from portal.models.base import utcnow
from tests import factories
from tests.support.account_integrations import (
    INDEX,
    KEYS,
    NEW_KEY,
    RETRIES,
    SETTINGS,
    key_form,
    retry_form,
    scheduler,
)
from tests.support.web import HTMX, count_rows, csrf_token

# API keys ------------------------------------------------------------------------------------


def test_generate_shows_the_key_once_with_no_store(app: Flask, client: FlaskClient, login) -> None:
    login("editor")
    page = client.get(INDEX)
    assert page.status_code == 200
    assert 'role="tab"' in page.get_data(as_text=True)
    dialog = client.get(NEW_KEY, headers=HTMX)
    html = dialog.get_data(as_text=True)
    assert 'id="api-key-form-dialog"' in html
    for label in ("Generate API key", "Name", "Company", "Environment", "Production", "Sandbox"):
        assert label in html
    assert ">Generate</button>" in html

    response = client.post(KEYS, data=key_form(app, client), headers=HTMX)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    key = re.search(r'value="(ptl_test_[^"]+)"', html).group(1)
    assert 'data-copy="new-api-key"' in html
    assert "It cannot be shown again" in html
    assert "API key “CRM” generated." in html  # the flash, out of band

    listing = client.get(INDEX).get_data(as_text=True)
    assert key not in listing
    assert "CRM" in listing and "Default Company" in listing and "Sandbox" in listing
    assert key[: len("ptl_test_") + 12] in listing  # the public key id


def test_the_list_shows_created_by_and_last_used(app: Flask, client: FlaskClient, login) -> None:
    login("admin", email="boss@example.com")
    client.post(KEYS, data=key_form(app, client, name="Billing"))
    html = client.get(INDEX).get_data(as_text=True)
    assert "by boss@example.com" in html
    assert "Never" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter a name."),
        ({"name": "x" * 101}, "Name must be at most 100 characters."),
        ({"company_id": "999999"}, "Choose a company from the list."),
        ({"company_id": "abc"}, "Choose a company from the list."),
        ({"environment": "staging"}, "Choose Production or Sandbox."),
    ],
)
def test_bad_key_input_is_refused_in_the_dialog(
    app: Flask, client: FlaskClient, login, fields, message
) -> None:
    login("editor")
    response = client.post(KEYS, data=key_form(app, client, **fields), headers=HTMX)
    assert response.status_code == 422
    assert 'id="api-key-form-dialog"' in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    assert count_rows(app, ApiKey) == 0


def test_missing_csrf_is_refused(app: Flask, client: FlaskClient, login) -> None:
    login("admin")
    data = key_form(app, client)
    del data["csrf_token"]
    assert client.post(KEYS, data=data).status_code == 400
    scheduler(app)
    data = retry_form(app, client)
    del data["csrf_token"]
    assert client.post(RETRIES, data=data).status_code == 400
    assert count_rows(app, ApiKey) == 0
    assert count_rows(app, AutoRetry) == 0


@pytest.mark.services
def test_viewers_see_the_list_only_and_forged_posts_are_refused(
    app: Flask, client: FlaskClient, login
) -> None:
    with app.app_context():
        key_id = factories.make_api_key("CRM").api_key.id
    scheduler(app)
    with app.app_context():
        rule_id = factories.make_auto_retry("Prod retries").id
    login("viewer")
    html = client.get(INDEX).get_data(as_text=True)
    assert "CRM" in html
    assert "Generate API key" not in html and "Delete CRM" not in html
    retries = client.get(RETRIES).get_data(as_text=True)
    assert "Prod retries" in retries and "Add auto-retries" not in retries
    assert "Edit Prod retries" not in retries
    assert client.get(NEW_KEY).status_code == 403
    assert client.post(KEYS, data=key_form(app, client, name="Forged")).status_code == 403
    token = csrf_token(client, INDEX)
    assert client.post(f"{KEYS}{key_id}/delete", data={"csrf_token": token}).status_code == 403
    assert (
        client.post(RETRIES, data=retry_form(app, client, environment="sandbox")).status_code == 403
    )
    assert (
        client.post(
            f"{RETRIES}{rule_id}", data={"csrf_token": token, "name": "X", "status": "inactive"}
        ).status_code
        == 403
    )
    assert client.post(f"{RETRIES}{rule_id}/delete", data={"csrf_token": token}).status_code == 403
    assert count_rows(app, ApiKey) == 1
    assert count_rows(app, AutoRetry) == 1
    with app.app_context():
        assert db.session.get(AutoRetry, rule_id).name == "Prod retries"


def test_delete_warns_when_the_key_was_used_in_the_last_seven_days(
    app: Flask, client: FlaskClient, login
) -> None:
    with app.app_context():
        quiet = factories.make_api_key("Quiet").api_key.id
        busy_key = factories.make_api_key("Busy").api_key
        busy_key.last_used_at = utcnow()
        db.session.commit()
        busy = busy_key.id
    login("editor")
    assert "used in the last 7 days" not in client.get(f"{KEYS}{quiet}/delete").get_data(
        as_text=True
    )
    confirm = client.get(f"{KEYS}{busy}/delete", headers=HTMX).get_data(as_text=True)
    assert "used in the last 7 days" in confirm
    assert "Delete API key" in confirm

    token = csrf_token(client, INDEX)
    response = client.post(f"{KEYS}{busy}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert "API key “Busy” deleted." in client.get(INDEX).get_data(as_text=True)
    assert count_rows(app, ApiKey) == 1
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action)))
        assert "api_key.delete" in actions


def test_deleting_an_unknown_key_is_404(client: FlaskClient, login) -> None:
    login("admin")
    token = csrf_token(client, INDEX)
    assert client.post(f"{KEYS}4242/delete", data={"csrf_token": token}).status_code == 404


# Account settings and FlexPay Retries --------------------------------------------------------


def test_names_are_escaped(app: Flask, client: FlaskClient, login) -> None:
    with app.app_context():
        factories.make_api_key("<img src=x onerror=alert(1)>")
    login("viewer")
    html = client.get(INDEX).get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_integration_urls_refuse_anonymous_users(client: FlaskClient) -> None:
    for url in (INDEX, NEW_KEY, RETRIES, SETTINGS):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_without_javascript_every_dialog_is_a_page(app: Flask, client: FlaskClient, login) -> None:
    scheduler(app)
    with app.app_context():
        rule_id = factories.make_auto_retry("Prod retries").id
    login("admin")
    for url in (NEW_KEY, f"{RETRIES}new", f"{RETRIES}{rule_id}/edit", f"{RETRIES}{rule_id}/delete"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert page.get_data(as_text=True).startswith("<!doctype html>"), url
    created = client.post(KEYS, data=key_form(app, client))
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    assert html.startswith("<!doctype html>") and 'value="ptl_test_' in html
    token = csrf_token(client, RETRIES)
    saved = client.post(
        f"{RETRIES}{rule_id}", data={"csrf_token": token, "name": "Renamed", "status": "active"}
    )
    assert saved.status_code == 303
    assert client.get(f"{RETRIES}{rule_id}").status_code == 302


def test_no_log_line_holds_the_key(app: Flask, client: FlaskClient, login, caplog) -> None:
    """Generate, use (Bearer, Basic, a typo), delete: every logger at DEBUG, SQL included."""
    import base64
    import logging

    caplog.set_level(logging.DEBUG)
    # SQLAlchemy holds its loggers at WARNING unless told otherwise: log every statement too.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    login("editor")
    response = client.post(KEYS, data=key_form(app, client), headers=HTMX)
    key = re.search(r'value="(ptl_test_[^"]+)"', response.get_data(as_text=True)).group(1)
    basic = base64.b64encode(f"{key}:".encode()).decode()
    for authorization in (f"Bearer {key}", f"Basic {basic}", f"Bearer {key[:-1]}x"):
        client.get("/api/v1/me", headers={"Authorization": authorization})
    with app.app_context():
        key_id = db.session.scalar(select(ApiKey.id))
    client.post(f"{KEYS}{key_id}/delete", data={"csrf_token": csrf_token(client, INDEX)})
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert "$argon2id$" in caplog.text  # the INSERT was logged with its parameters
    secret = key[len("ptl_test_") + 13 : -6]
    assert key not in caplog.text and secret not in caplog.text


SANDBOX_NOTE = (
    "Note: If using the Gateway Management API, a Sandbox key will only be able to create "
    "gateways in that Mode. Any transactions sent to a sandbox gateway will never reach a "
    "production endpoint. Please see the API documentation for more details."
)
RETRY_WARNING = (
    "As soon as Auto-Retry is enabled for a company, any transaction sent will be automatically "
    "scheduled and retried by FlexPay. Do not enable it if your CRM is also scheduling and "
    "processing retries."
)
ONCE_PER_PAIR = (
    "FlexPay retries can only be enabled once per Company/Environment combination. This means "
    "that if you only have the Default Company set up in your account, you'll be able to add "
    "auto-retries twice, one for Production and one for Sandbox."
)


def words(html: str) -> str:
    """Return the HTML with its whitespace runs collapsed, as a reader sees the sentences."""
    return " ".join(html.replace("&#39;", "'").split())


def test_the_seed_sentences_are_shown_word_for_word(app: Flask, client: FlaskClient, login) -> None:
    scheduler(app)
    login("editor")
    assert SANDBOX_NOTE in words(client.get(NEW_KEY, headers=HTMX).get_data(as_text=True))
    refused = client.post(KEYS, data=key_form(app, client, environment="live"), headers=HTMX)
    assert refused.status_code == 422
    assert SANDBOX_NOTE in words(refused.get_data(as_text=True))  # still there beside the error
    assert RETRY_WARNING in words(client.get(f"{RETRIES}new", headers=HTMX).get_data(as_text=True))
    assert ONCE_PER_PAIR in words(client.get(RETRIES).get_data(as_text=True))
