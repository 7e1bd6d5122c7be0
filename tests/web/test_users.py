"""System > Users: validation, roles, deactivation and their audit events."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, User, UserSession
from tests import factories
from tests.support.web import csrf_token, sign_in


def post(client: FlaskClient, url: str, htmx: bool = False, **data):
    data["csrf_token"] = csrf_token(client, "/system/users/")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data=data, headers=headers)


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(db.session.scalars(query))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "role": "viewer"}, "Enter an e-mail address."),
        ({"email": "not-an-email", "role": "viewer"}, "Enter a valid e-mail address."),
        ({"email": "a" * 250 + "@x.io", "role": "viewer"}, "E-mail must be at most 254"),
        ({"email": "new@example.com", "role": "owner"}, "Choose a role from the list."),
        (
            {"email": "new@example.com", "role": "viewer", "confirm": "different pass 1"},
            "The passwords do not match.",
        ),
        (
            {"email": "new@example.com", "role": "viewer", "password": "short", "confirm": "short"},
            "Password must be between 12 and 256 characters.",
        ),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_saves_nothing(
    app: Flask, client: FlaskClient, login, data, message
) -> None:
    login("admin")
    before = user_count(app)
    data = {"password": factories.PASSWORD, "confirm": factories.PASSWORD, **data}
    response = post(client, "/system/users/", htmx=True, **data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="user-form-dialog"' in body and message in body
    assert "<html" not in body  # the fragment, swapped in place
    assert user_count(app) == before


def test_duplicate_email_is_refused_regardless_of_case(app: Flask, client, login) -> None:
    login("admin", email="boss@example.com")
    response = post(
        client,
        "/system/users/",
        email="BOSS@example.com",
        role="viewer",
        password=factories.PASSWORD,
        confirm=factories.PASSWORD,
    )
    assert response.status_code == 422
    assert "A user with this e-mail already exists." in response.get_data(as_text=True)
    assert user_count(app) == 1


def test_admin_creates_a_user_with_an_audit_event_without_the_password(
    app: Flask, client, login
) -> None:
    login("admin")
    response = post(
        client,
        "/system/users/",
        htmx=True,
        email="Ed@Example.com",
        role="editor",
        password=factories.PASSWORD,
        confirm=factories.PASSWORD,
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/system/users/"
    page = client.get("/system/users/").get_data(as_text=True)
    assert "User ed@example.com created as editor." in page
    [event] = [e for e in events(app, "user.create") if e.object_label == "ed@example.com"]
    assert event.changes == {"email": "ed@example.com", "role": "editor"}
    assert factories.PASSWORD not in str(event.changes)


def test_change_role_swaps_the_row_and_flashes_out_of_band(app: Flask, client, login) -> None:
    login("admin")
    with app.app_context():
        target = factories.make_user("viewer", "v@example.com").id
    response = post(client, f"/system/users/{target}/role", htmx=True, role="editor")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.startswith(f'<tr id="user-{target}">')
    assert 'hx-swap-oob="beforeend"' in body and "v@example.com is now editor." in body
    assert "HX-Request" in response.headers["Vary"]
    [event] = events(app, "user.change_role")
    assert event.changes == {"role": ["viewer", "editor"]}


def test_the_last_admin_keeps_the_role(app: Flask, client, login) -> None:
    me = login("admin")
    response = post(client, f"/system/users/{me}/role", htmx=True, role="viewer")
    assert response.status_code == 409
    assert "The last active administrator" in response.get_data(as_text=True)
    assert events(app, "user.change_role") == []


def test_deactivation_ends_sessions_and_activation_restores_sign_in(
    app: Flask, client, login
) -> None:
    login("admin")
    with app.app_context():
        factories.make_user("editor", "ed@example.com")
    editor_client = app.test_client()
    sign_in(editor_client, "ed@example.com")
    with app.app_context():
        ed = db.session.scalar(select(User).where(User.email == "ed@example.com"))
        ed_id = ed.id

    assert client.get(f"/system/users/{ed_id}/deactivate").status_code == 200  # the question
    response = post(client, f"/system/users/{ed_id}/deactivate")
    assert response.status_code == 303
    assert editor_client.get("/connect/").status_code == 302
    with app.app_context():
        sessions = select(func.count()).select_from(UserSession).where(UserSession.user_id == ed_id)
        assert db.session.scalar(sessions) == 0
    assert sign_in(editor_client, "ed@example.com").status_code == 401

    post(client, f"/system/users/{ed_id}/activate")
    assert sign_in(editor_client, "ed@example.com").status_code == 303
    assert len(events(app, "user.deactivate")) == 1
    assert len(events(app, "user.activate")) == 1


def test_an_admin_cannot_deactivate_themselves(app: Flask, client, login) -> None:
    me = login("admin")
    post(client, f"/system/users/{me}/deactivate")
    assert client.get("/connect/").status_code == 200
    assert events(app, "user.deactivate") == []


def test_unknown_user_ids_give_404(client, login) -> None:
    login("admin")
    assert client.get("/system/users/999999/deactivate").status_code == 404


def test_the_list_is_searched_by_email_and_paged_by_keyset(app: Flask, client, login) -> None:
    login("admin", email="boss@example.com")
    with app.app_context():
        # Listing needs rows, not sign-ins: skip sixty argon2 hashes.
        emails = [f"staff{n:02d}@example.com" for n in range(60)] + ["100%_literal@example.com"]
        db.session.add_all(User(email=e, password_hash="-", role="viewer") for e in emails)
        db.session.commit()
        staff49_id = db.session.scalar(select(User.id).where(User.email == "staff49@example.com"))

    first = client.get("/system/users/?q=STAFF", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert first.count('id="user-') == 50 and "boss@example.com" not in first
    assert "staff49@example.com" in first and "staff50@example.com" not in first
    second = client.get(
        f"/system/users/?q=staff&after={staff49_id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert second.startswith('<div id="users-results">')
    assert second.count('id="user-') == 10 and "Next users" not in second
    assert "Previous users" in second

    # LIKE wildcards typed by the user are matched literally.
    literal = client.get("/system/users/?q=0%25_").get_data(as_text=True)
    assert literal.count('id="user-') == 1 and "100%_literal@example.com" in literal
    empty = client.get("/system/users/?q=nobody").get_data(as_text=True)
    assert "No user's e-mail contains “nobody”." in html.unescape(empty)
