"""CSRF: every state-changing HTML request needs the token."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import User
from tests.support.web import csrf_token


def test_post_without_token_is_refused_with_400_and_changes_nothing(
    app: Flask, client: FlaskClient, login
) -> None:
    login("admin")
    response = client.post(
        "/system/users/",
        data={
            "email": "new@example.com",
            "role": "viewer",
            "password": "x" * 12,
            "confirm": "x" * 12,
        },
    )
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new@example.com")) is None


def test_every_post_endpoint_refuses_a_missing_token(
    app: Flask, client: FlaskClient, login
) -> None:
    login("admin")
    import re

    posts = [
        re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule.rule)
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api/")
    ]
    assert posts
    for url in posts:
        assert client.post(url, data={}).status_code == 400, url


def test_sign_in_form_needs_the_token(client: FlaskClient, login) -> None:
    login("viewer")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/connect/")})
    response = client.post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
