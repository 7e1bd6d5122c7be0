"""Account Settings > Integrations > FlexPay Retries: the tab, its dialog and rows."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, AutoRetry
from tests import factories
from tests.support.account_integrations import (
    INDEX,
    RETRIES,
    SETTINGS,
    retry_form,
    scheduler,
)
from tests.support.web import HTMX, count_rows, csrf_token


def test_retries_are_hidden_and_404_until_an_admin_enables_the_scheduler(
    app: Flask, client: FlaskClient, login
) -> None:
    login("admin")
    assert "FlexPay Retries" not in client.get(INDEX).get_data(as_text=True)
    for url in (RETRIES, f"{RETRIES}new", f"{RETRIES}1/edit", f"{RETRIES}1/delete"):
        assert client.get(url).status_code == 404, url
    assert client.post(RETRIES, data=retry_form(app, client)).status_code == 404

    settings = client.get(SETTINGS).get_data(as_text=True)
    assert "Scheduler enabled" in settings
    token = csrf_token(client, SETTINGS)
    response = client.post(SETTINGS, data={"csrf_token": token, "scheduler_enabled": "y"})
    assert response.status_code == 303
    assert "The scheduler is on." in client.get(SETTINGS).get_data(as_text=True)
    assert "FlexPay Retries" in client.get(INDEX).get_data(as_text=True)
    assert client.get(RETRIES).status_code == 200

    client.post(SETTINGS, data={"csrf_token": token})
    assert client.get(RETRIES).status_code == 404
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).where(AuditEvent.action == "settings.update"))
            == 2
        )


@pytest.mark.services
def test_add_refuses_a_duplicate_pair_naming_the_existing_rule(
    app: Flask, client: FlaskClient, login
) -> None:
    scheduler(app)
    login("editor")
    dialog = client.get(f"{RETRIES}new", headers=HTMX).get_data(as_text=True)
    for text in ("Add auto-retries", "Status", "Active", "Inactive", "Add auto-retry</button>"):
        assert text in dialog
    assert "Do not enable it if your CRM is also scheduling and processing retries." in dialog

    response = client.post(RETRIES, data=retry_form(app, client), headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == RETRIES
    assert "Auto-retry “Prod retries” added." in client.get(RETRIES).get_data(as_text=True)

    duplicate = client.post(RETRIES, data=retry_form(app, client, name="Again"), headers=HTMX)
    assert duplicate.status_code == 422
    assert "already has an auto-retry for Production: “Prod retries”" in duplicate.get_data(
        as_text=True
    )
    assert count_rows(app, AutoRetry) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "Enter a name."),
        ({"name": "y" * 101}, "Name must be at most 100 characters."),
        ({"company_id": "31337"}, "Choose a company from the list."),
        ({"environment": "live"}, "Choose Production or Sandbox."),
        ({"status": "paused"}, "Choose Active or Inactive."),
    ],
)
def test_bad_retry_input_is_refused(
    app: Flask, client: FlaskClient, login, fields, message
) -> None:
    scheduler(app)
    login("admin")
    response = client.post(RETRIES, data=retry_form(app, client, **fields), headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_rows(app, AutoRetry) == 0


def test_edit_in_place_and_delete(app: Flask, client: FlaskClient, login) -> None:
    scheduler(app)
    with app.app_context():
        rule_id = factories.make_auto_retry("Prod retries").id
    login("editor")
    row = f'id="auto-retry-{rule_id}"'
    edit = client.get(f"{RETRIES}{rule_id}/edit", headers=HTMX).get_data(as_text=True)
    assert edit.startswith("<tr") or row in edit
    assert 'aria-label="Status"' in edit

    token = csrf_token(client, RETRIES)
    bad = client.post(
        f"{RETRIES}{rule_id}",
        data={"csrf_token": token, "name": "", "status": "active"},
        headers=HTMX,
    )
    assert bad.status_code == 422
    assert "Enter a name." in bad.get_data(as_text=True)

    saved = client.post(
        f"{RETRIES}{rule_id}",
        data={"csrf_token": token, "name": "Live retries", "status": "inactive"},
        headers=HTMX,
    )
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    assert row in html and "Inactive" in html
    assert "Auto-retry “Live retries” saved (Inactive)." in html
    assert client.get(f"{RETRIES}{rule_id}", headers=HTMX).status_code == 200

    confirm = client.get(f"{RETRIES}{rule_id}/delete").get_data(as_text=True)
    assert "Delete auto-retry" in confirm
    deleted = client.post(f"{RETRIES}{rule_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert "Auto-retry “Live retries” deleted." in client.get(RETRIES).get_data(as_text=True)
    assert count_rows(app, AutoRetry) == 0
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"auto_retry.add", "auto_retry.update", "auto_retry.delete"} <= actions


def test_add_is_disabled_with_the_reason_once_every_pair_has_its_rule(
    app: Flask, client: FlaskClient, login
) -> None:
    login("editor")
    scheduler(app)
    with app.app_context():
        factories.make_auto_retry("Live", "production")
    assert 'href="/account/integrations/retries/new"' in client.get(RETRIES).get_data(as_text=True)
    with app.app_context():
        factories.make_auto_retry("Test", "sandbox")
    page = client.get(RETRIES).get_data(as_text=True)
    assert 'href="/account/integrations/retries/new"' not in page
    assert "Every company already has an auto-retry for Production and for Sandbox" in page
    assert 'disabled aria-describedby="auto-retries-full">Add auto-retries</button>' in page
