"""Sign-in, sessions and their revocation, as SECURITY.md items 1-6 promise."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import AuditEvent, UserSession
from portal.models.base import utcnow
from tests import factories
from tests.support.queries import events
from tests.support.web import csrf_token, sign_in

pytestmark = pytest.mark.services


@pytest.fixture
def viewer(app: Flask) -> str:
    with app.app_context():
        factories.setup_account()
        return factories.make_user("viewer", "viewer@example.com").email


def test_unknown_user_and_wrong_password_look_the_same_and_cost_the_same(
    client: FlaskClient, viewer: str, monkeypatch
) -> None:
    verifications = []
    original = PasswordHasher.verify

    def counting_verify(self, hash, password):
        verifications.append(hash)
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    unknown = sign_in(client, "nobody@example.com", "wrong password 1")
    wrong = sign_in(client, viewer, "wrong password 1")
    assert unknown.status_code == wrong.status_code == 401

    def strip(response) -> str:
        # Only the typed address and the time-stamped CSRF token may differ.
        body = response.get_data(as_text=True).replace("nobody@example.com", "").replace(viewer, "")
        return re.sub(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}", "<token>", body)

    assert strip(unknown) == strip(wrong)
    assert "The e-mail or password is incorrect." in unknown.get_data(as_text=True)
    assert len(verifications) == 2  # the unknown account still cost one verification


def test_sixth_failure_is_throttled_with_retry_after_for_known_and_unknown_accounts(
    client: FlaskClient, viewer: str
) -> None:
    for email in (viewer, "ghost@example.com"):
        for _ in range(5):
            assert sign_in(client, email, "wrong password 1").status_code == 401
        throttled = sign_in(client, email, factories.PASSWORD)
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
        assert "Too many failed sign-ins" in throttled.get_data(as_text=True)


def test_success_after_failures_forgets_them(client: FlaskClient, viewer: str) -> None:
    for _ in range(4):
        sign_in(client, viewer, "wrong password 1")
    assert sign_in(client, viewer).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_token(client, "/connect/")})
    for _ in range(4):
        assert sign_in(client, viewer, "wrong password 1").status_code == 401
    assert sign_in(client, viewer).status_code == 303


def test_per_ip_limit_applies_across_accounts(app: Flask, client: FlaskClient, viewer) -> None:
    app.config["LOGIN_IP_LIMIT"] = "3 per minute"
    statuses = [sign_in(client, f"u{n}@example.com", "x").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.services
def test_every_refused_sign_in_is_audited_the_rate_limited_ones_too(
    app: Flask, client: FlaskClient, viewer
) -> None:
    app.config["LOGIN_IP_LIMIT"] = "3 per minute"
    for n in range(6):
        sign_in(client, f"u{n}@example.com", "x")
    with app.app_context():
        outcomes = [e.outcome for e in events("auth.sign_in")]
    assert outcomes == ["failure"] * 3 + ["rate_limited"] * 3


def test_sign_out_revokes_the_session_so_a_copied_cookie_stops_working(
    app: Flask, client: FlaskClient, viewer: str
) -> None:
    sign_in(client, viewer)
    copied = client.get_cookie("portal_session").value
    assert client.get("/connect/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/connect/")})

    thief = app.test_client()
    thief.set_cookie("portal_session", copied)
    response = thief.get("/connect/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_each_sign_in_gets_a_fresh_session(app: Flask, client: FlaskClient, viewer: str) -> None:
    before = client.get("/login") and client.get_cookie("portal_session").value
    sign_in(client, viewer)
    after = client.get_cookie("portal_session").value
    assert before != after
    other = app.test_client()
    sign_in(other, viewer)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(UserSession)) == 2


@pytest.mark.parametrize(
    ("column", "age"),
    [("last_seen_at", timedelta(minutes=31)), ("created_at", timedelta(hours=12, minutes=1))],
)
def test_idle_and_absolute_timeouts_are_enforced_on_the_server(
    app: Flask, client: FlaskClient, viewer: str, column: str, age: timedelta
) -> None:
    sign_in(client, viewer)
    with app.app_context():
        db.session.execute(update(UserSession).values({column: utcnow() - age}))
        db.session.commit()
    response = client.get("/connect/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(UserSession)) == 0


def test_timeouts_are_configurable(app: Flask, client: FlaskClient, viewer: str) -> None:
    app.config["SESSION_IDLE_MINUTES"] = 120
    sign_in(client, viewer)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    assert client.get("/connect/").status_code == 200


def test_password_change_signs_out_the_other_sessions(
    app: Flask, client: FlaskClient, viewer: str
) -> None:
    other = app.test_client()
    sign_in(other, viewer)
    sign_in(client, viewer)
    new_password = "a brand new passphrase"
    response = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "password": new_password,
            "confirm": new_password,
            "csrf_token": csrf_token(client, "/account/password"),
        },
    )
    assert response.status_code == 303
    assert client.get("/connect/").status_code == 200
    assert other.get("/connect/").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/connect/")})
    assert sign_in(client, viewer, new_password).status_code == 303


def test_password_change_refuses_a_wrong_current_password(client: FlaskClient, viewer) -> None:
    sign_in(client, viewer)
    response = client.post(
        "/account/password",
        data={
            "current_password": "not my password",
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": csrf_token(client, "/account/password"),
        },
    )
    assert response.status_code == 422
    assert "The current password is not correct." in response.get_data(as_text=True)


def test_cookies_are_httponly_lax_and_secure_over_https(app: Flask, viewer: str) -> None:
    client = app.test_client()
    sign_in(client, viewer)
    cookie = client.get_cookie("portal_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure

    https = app.test_client()
    response = https.get("/login", base_url="https://localhost")
    set_cookie = response.headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    # Over HTTPS the cookie is host-only, Secure and Path=/, under the __Host- prefix.
    assert set_cookie.startswith("__Host-portal_session=")
    assert "Path=/" in set_cookie and "Domain=" not in set_cookie


def test_a_session_made_over_https_works_over_https(app: Flask, viewer: str) -> None:
    https = app.test_client()
    token = csrf_token(https, "https://localhost/login")
    response = https.post(
        "/login",
        base_url="https://localhost",
        data={"email": viewer, "password": factories.PASSWORD, "csrf_token": token},
        headers={"Referer": "https://localhost/login"},  # CSRF checks it over HTTPS
    )
    assert response.status_code == 303
    assert https.get("/connect/", base_url="https://localhost").status_code == 200


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    for path in ("/login", "/healthz", "/setup", "/nowhere"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers


def test_sign_in_attempts_are_audited(app: Flask, client: FlaskClient, viewer: str) -> None:
    sign_in(client, viewer, "wrong password 1")
    sign_in(client, viewer)
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.sign_in").order_by(AuditEvent.id)
        ).all()
        assert [e.outcome for e in events] == ["failure", "success"]
        assert all(e.ip == "127.0.0.1" and e.actor_label == viewer for e in events)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/connect/")})
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-1] == "auth.sign_out"


def test_setup_is_gone_once_a_user_exists(client: FlaskClient, viewer: str) -> None:
    assert client.get("/setup").status_code == 404
    response = client.post("/setup", data={"email": "x@example.com"})
    assert response.status_code in (400, 404)


def test_setup_creates_the_admin_and_default_company(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/setup",
        data={
            "email": "Owner@Example.com",
            "password": factories.PASSWORD,
            "confirm": factories.PASSWORD,
            "csrf_token": csrf_token(client, "/setup"),
        },
    )
    assert response.status_code == 303
    from portal.models import Company, User

    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role) == ("owner@example.com", "admin")
        assert [c.name for c in db.session.scalars(select(Company))] == ["Default Company"]
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"setup.complete", "company.create", "auth.sign_in"} <= actions
    assert client.get("/setup").status_code == 404


def test_nothing_secret_reaches_the_logs(
    app: Flask, client: FlaskClient, viewer: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sign_in(client, viewer, "a wrong password 1")
    sign_in(client, viewer)
    token = csrf_token(client, "/account/password")
    client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "password": "another long passphrase",
            "confirm": "another long passphrase",
            "csrf_token": token,
        },
    )
    cookie = client.get_cookie("portal_session").value
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (
        factories.PASSWORD,
        "a wrong password 1",
        "another long passphrase",
        token,
        cookie,
    ):
        assert secret not in logged
