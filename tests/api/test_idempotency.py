"""Idempotency-Key on the provisioning API's POSTs: replay, mismatch, concurrency, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update

from portal.extensions import db
from portal.models import Connection, IdempotencyKey
from portal.models.base import utcnow
from tests.support.concurrency import run_concurrently
from tests.support.provisioning import Api, api_key

BODY = {"network": "Visa", "name": "Simulator A", "adapter": "Simulator", "method": "Creditcard"}


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    """Return the API called with a Sandbox key."""
    return Api(client, api_key(app, "sandbox"))


def connection_count(app: Flask) -> int:
    """Return how many connections exist."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Connection))


@pytest.mark.services
def test_the_same_key_and_body_replay_the_first_answer(app: Flask, api: Api) -> None:
    merchant = api.merchant()
    first = api.post(f"createConnector/{merchant}", BODY, **{"Idempotency-Key": "order-1"})
    again = api.post(f"createConnector/{merchant}", BODY, **{"Idempotency-Key": "order-1"})
    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data()  # the generated shared secret included
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert connection_count(app) == 1
    # The stored answer holds a secret shown once: never in plaintext at rest.
    secret = first.get_json()["connector"]["sharedSecret"]
    with app.app_context():
        assert secret not in repr(db.session.execute(text("SELECT * FROM idempotency_keys")).all())


@pytest.mark.services
def test_the_same_key_with_another_request_is_1006(app: Flask, api: Api) -> None:
    merchant = api.merchant()
    api.post(f"createConnector/{merchant}", BODY, **{"Idempotency-Key": "order-2"})
    other = api.post(
        f"createConnector/{merchant}",
        {**BODY, "name": "Simulator B"},
        **{"Idempotency-Key": "order-2"},
    )
    assert other.status_code == 422
    assert other.get_json()["errorCode"] == 1006
    assert connection_count(app) == 1


@pytest.mark.services
def test_keys_belong_to_their_api_key(app: Flask, client: FlaskClient, api: Api) -> None:
    merchant = api.merchant()
    other = Api(client, api_key(app, "sandbox"))
    for caller, name in ((api, "Simulator A"), (other, "Simulator B")):
        response = caller.post(
            f"createConnector/{merchant}", {**BODY, "name": name}, **{"Idempotency-Key": "same"}
        )
        assert response.status_code == 200
    assert connection_count(app) == 2


@pytest.mark.services
def test_a_refused_request_gives_the_key_back(app: Flask, api: Api) -> None:
    merchant = api.merchant()
    refused = api.post(
        f"createConnector/{merchant}", {**BODY, "name": "ab"}, **{"Idempotency-Key": "k3"}
    )
    assert refused.status_code == 422
    fixed = api.post(f"createConnector/{merchant}", BODY, **{"Idempotency-Key": "k3"})
    assert fixed.status_code == 200 and "Idempotent-Replayed" not in fixed.headers


@pytest.mark.services
def test_a_key_is_forgotten_after_a_day(app: Flask, api: Api) -> None:
    merchant = api.merchant()
    api.post(f"createConnector/{merchant}", BODY, **{"Idempotency-Key": "old"})
    with app.app_context():
        db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    again = api.post(
        f"createConnector/{merchant}", {**BODY, "name": "Simulator B"}, **{"Idempotency-Key": "old"}
    )
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert connection_count(app) == 2


def test_a_malformed_key_is_1003(api: Api) -> None:
    response = api.post("createMerchant", {"name": "Acme"}, **{"Idempotency-Key": "a b\u00e9"})
    assert response.status_code == 422
    assert response.get_json()["errorCode"] == 1003


@pytest.mark.services
def test_concurrent_requests_with_one_key_run_once(app: Flask, api: Api) -> None:
    merchant = api.merchant()

    def create(_: int):
        client = app.test_client()
        return client.post(
            f"/api/provisioning/createConnector/{merchant}",
            json=BODY,
            headers={"Authorization": f"Bearer {api.key}", "Idempotency-Key": "race"},
        )

    responses = run_concurrently(app, 4, create)
    statuses = [response.status_code for response in responses]
    assert statuses == [200] * 4, [r.get_json() for r in responses]
    assert len({response.get_data() for response in responses}) == 1
    assert sum("Idempotent-Replayed" in response.headers for response in responses) == 3
    assert connection_count(app) == 1
