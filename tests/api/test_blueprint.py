"""What every JSON API blueprint shares (portal/api/blueprint.py), checked on each of them."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories

APIS = [
    pytest.param("/api/v1/me", "/api/v1/transactions", id="v1"),
    pytest.param(
        "/api/provisioning/getConnector/CO-none",
        "/api/provisioning/createMerchant",
        id="provisioning",
    ),
]


@pytest.fixture
def key(app: Flask) -> str:
    """Return the plaintext of a Production key of "Default Company"."""
    with app.app_context():
        return factories.make_api_key("CRM", environment="production").plaintext


@pytest.mark.parametrize(("read_url", "write_url"), APIS)
def test_every_api_answers_uncached_and_refuses_a_large_body_without_csrf(
    app: Flask, client: FlaskClient, key: str, read_url: str, write_url: str
) -> None:
    refused = client.get(read_url)
    assert refused.status_code == 401
    assert refused.headers["Cache-Control"] == "no-store"
    # No CSRF token and no session: the body cap answers (413), not the CSRF check (400).
    too_large = b"x" * (app.config["API_MAX_BODY_BYTES"] + 1)
    response = client.post(
        write_url,
        data=too_large,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 413
    assert response.headers["Cache-Control"] == "no-store"


def test_only_the_v1_api_reports_argon2_verifications_in_benchmarks(
    app: Flask, client: FlaskClient
) -> None:
    app.config["BENCHMARK"] = True
    v1 = client.get("/api/v1/me")
    provisioning = client.get("/api/provisioning/getConnector/CO-none")
    assert v1.headers["X-Portal-Argon2-Verifications"].endswith(":0")
    assert "X-Portal-Argon2-Verifications" not in provisioning.headers
