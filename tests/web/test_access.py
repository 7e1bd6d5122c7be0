"""Deny by default: walk the URL map and prove every protected endpoint refuses outsiders."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

#: Endpoints anyone may reach.
PUBLIC = {
    "static",
    "auth.login",
    "auth.sign_in",
    "auth.setup",
    "auth.complete_setup",
    "health.healthz",
    "health.readyz",
}
#: Endpoints authenticated by a signature on the request itself (FlexCharge's webhooks):
#: not public, never the session, and an unsigned request gets the JSON 401.
SIGNED = {"flexcharge_webhooks.receive"}
#: Blueprints whose every endpoint is for admins only (system configuration).
ADMIN_BLUEPRINTS = {"users", "companies", "audit", "external_integrations", "settings"}


def concrete_urls(app: Flask):
    """Yield (endpoint, method, url) for every rule, with made-up ids for parameters."""
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_non_public_endpoint_sends_anonymous_users_to_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # reach the access check, not the CSRF check
    checked = 0
    for endpoint, method, url in concrete_urls(app):
        if endpoint in PUBLIC:
            continue
        response = client.open(url, method=method)
        if endpoint in SIGNED:
            assert getattr(app.view_functions[endpoint], "handles_own_auth", False), endpoint
            assert response.status_code == 401, (endpoint, method)
            assert response.get_json()["errorCode"] == 1000
        elif url.startswith("/api/"):
            assert response.status_code == 401, (endpoint, method)
        else:
            assert response.status_code in (302, 303), (endpoint, method, response.status_code)
            assert "/login" in response.headers["Location"], (endpoint, method)
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_every_admin_endpoint_refuses_editors_and_viewers(
    app: Flask, client: FlaskClient, login, role: str
) -> None:
    login(role)
    app.config["WTF_CSRF_ENABLED"] = False
    checked = 0
    for endpoint, method, url in concrete_urls(app):
        if endpoint.split(".")[0] in ADMIN_BLUEPRINTS:
            response = client.open(url, method=method)
            assert response.status_code == 403, (endpoint, method, response.status_code)
            checked += 1
    assert checked >= 10


def test_public_endpoints_answer_without_a_session(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/setup").status_code == 200  # no user yet


def test_next_only_accepts_same_site_paths(client: FlaskClient, login) -> None:
    from portal.auth.views import safe_next

    assert safe_next("/system/users/") == "/system/users/"
    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        assert safe_next(hostile) is None
