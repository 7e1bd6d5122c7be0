"""The per-key rate limit of the JSON APIs (Flask-Limiter; Redis in `make test-services`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests import factories
from tests.support.apps import fresh_app
from tests.support.provisioning import Api, api_key
from tests.support.web import sign_in


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """Return an app whose API keys may make 3 requests a minute, and sign-ins 2 per IP."""
    yield from fresh_app(database_url, API_RATE_LIMIT="3 per minute", LOGIN_IP_LIMIT="2 per minute")


@pytest.mark.services
def test_a_key_over_its_limit_gets_429_with_retry_after(app: Flask) -> None:
    api = Api(app.test_client(), api_key(app, "sandbox"))
    answers = [api.get("getConnectorSettings/Simulator") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert {answer.headers["RateLimit-Limit"] for answer in answers} == {"3"}

    refused = api.post("createMerchant", {"name": "Acme"})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert 0 < int(refused.headers["RateLimit-Reset"]) <= 60
    body = refused.get_json()
    assert body["success"] is False and "errorCode" not in body
    # The whole API shares the key's budget.
    client = app.test_client()
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {api.key}"}).status_code == 429
    )


@pytest.mark.services
def test_each_key_has_its_own_budget(app: Flask) -> None:
    first = Api(app.test_client(), api_key(app, "sandbox"))
    second = Api(app.test_client(), api_key(app, "sandbox"))
    for _ in range(3):
        first.get("getConnectorSettings/Simulator")
    assert first.get("getConnectorSettings/Simulator").status_code == 429
    assert second.get("getConnectorSettings/Simulator").status_code == 200


@pytest.mark.services
def test_api_requests_do_not_count_against_sign_in(app: Flask) -> None:
    api = Api(app.test_client(), api_key(app, "sandbox"))
    for _ in range(4):
        api.get("getConnectorSettings/Simulator")
    with app.app_context():
        email = factories.make_user("viewer").email
    # Two sign-ins per minute from this address remain, whatever the API did.
    assert sign_in(app.test_client(), email).status_code == 303
    assert sign_in(app.test_client(), email).status_code == 303
    assert sign_in(app.test_client(), email).status_code == 429
