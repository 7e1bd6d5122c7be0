"""Error pages: friendly, in the layout, and never a stack trace."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.models import AuditEvent, Company
from portal.schemas.companies import CompanyInput
from portal.services import companies
from portal.services.actor import Actor
from tests import factories


def test_unexpected_errors_show_a_page_without_a_trace(
    app: Flask, client: FlaskClient, login
) -> None:
    def explode():
        raise RuntimeError("internal detail that must not leak")

    app.add_url_rule("/explode", "explode", explode)
    login("viewer")
    response = client.get("/explode")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "internal detail" not in body and "Traceback" not in body


def test_404_and_403_pages(client: FlaskClient, login) -> None:
    login("viewer")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)
    denied = client.get("/system/audit/")
    assert denied.status_code == 403 and "Access denied" in denied.get_data(as_text=True)


def test_htmx_requests_from_an_expired_session_are_redirected_to_sign_in(client) -> None:
    response = client.get("/system/users/new", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_an_edit_that_lost_a_race_answers_404_and_saves_nothing(
    app: Flask, client: FlaskClient, login
) -> None:

    raised: dict[str, Exception] = {}

    def replay():
        raise raised["error"]

    app.add_url_rule("/lost-race", "lost_race", replay)  # before the app serves a request
    login("admin")
    with app.app_context():
        company = factories.make_company("Acme")
        # Another request deletes the company between this one's read and its update.
        with db.engine.begin() as other:
            other.execute(delete(Company).where(Company.id == company.id))
        events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        try:
            companies.rename_company(
                Actor.system("test"), company, CompanyInput(name="Acme Europe")
            )
        except StaleDataError as error:
            raised["error"] = error
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before

    response = client.get("/lost-race")
    assert response.status_code == 404
    assert "Someone else deleted or changed this meanwhile." in response.get_data(as_text=True)
