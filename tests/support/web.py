"""Talk to the portal as a browser would: read the CSRF token, sign in, count rows."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from tests import factories

HTMX = {"HX-Request": "true"}
_CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


def token_in(html: str, path: str) -> str:
    """Return the CSRF token a page carries in its head."""
    match = _CSRF_META.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """Read the CSRF token from a page, as a browser would."""
    return token_in(client.get(path).get_data(as_text=True), path)


def sign_in(client: FlaskClient, email: str, password: str = factories.PASSWORD):
    """Post the sign-in form with its token."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def count_rows(app: Flask, model) -> int:
    """Return how many rows of the model exist."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0
