"""Account Settings > Companies: add, rename, delete; names unique regardless of case."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Company
from portal.services import companies
from tests.support.web import csrf_token

XSS = "<img src=x onerror=alert(1)>"


def post(client: FlaskClient, url: str, **data):
    data["csrf_token"] = csrf_token(client, "/account/companies/")
    return client.post(url, data=data, headers={"HX-Request": "true"})


def names(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(Company.name)))


def test_add_rename_and_delete_with_audit_events(app: Flask, client, login) -> None:
    login("admin")
    assert post(client, "/account/companies/", name="  Acme   EU ").status_code == 204
    assert names(app) == ["Acme EU", "Default Company"]
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.name == "Acme EU")).id
    assert post(client, f"/account/companies/{acme}", name="Acme Europe").status_code == 204
    assert "Company renamed to “Acme Europe”." in client.get("/account/companies/").text
    assert post(client, f"/account/companies/{acme}/delete").status_code == 204
    assert names(app) == ["Default Company"]
    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.object_type == "Company", AuditEvent.object_id == str(acme)
                )
            )
        )
    assert actions == ["company.create", "company.rename", "company.delete"]


def test_bad_names_are_refused_next_to_the_field(app: Flask, client, login) -> None:
    login("admin")
    for name, message in (
        ("", "Enter a name."),
        ("x" * 101, "Name must be at most 100 characters."),
        ("default COMPANY", "A company named “default COMPANY” already exists."),
    ):
        response = post(client, "/account/companies/", name=name)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert names(app) == ["Default Company"]


def test_names_are_shown_as_text_everywhere(app: Flask, client, login) -> None:
    login("admin")
    post(client, "/account/companies/", name=XSS)
    for page in ("/account/companies/", "/system/audit/"):
        body = client.get(page).get_data(as_text=True)
        assert XSS not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_unknown_company_gives_404(client, login) -> None:
    login("admin")
    assert client.get("/account/companies/424242/edit").status_code == 404
    assert post(client, "/account/companies/424242/delete").status_code == 404


@pytest.mark.parametrize("name", ["Acme\x00", "Ac\tme", "Acme\nInc", "Acme\u202e", "Ac\u200bme"])
def test_control_and_invisible_characters_are_refused_next_to_the_field(
    app: Flask, client: FlaskClient, login, name: str
) -> None:
    login("admin")
    token = csrf_token(client, "/account/companies/")
    response = client.post("/account/companies/", data={"name": name, "csrf_token": token})
    assert response.status_code == 422
    assert 'id="field-name-error">Name contains invalid characters.</small>' in response.text
    with app.app_context():
        assert [company.name for company in companies.list_companies()] == ["Default Company"]
