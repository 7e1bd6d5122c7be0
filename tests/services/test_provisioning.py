"""The provisioning service under concurrency, and its audit trail."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Integration
from portal.schemas.provisioning import ConnectorUpdate, NewConnectorInput
from portal.services import provisioning
from portal.services.api_keys import list_api_keys
from portal.services.provisioning import KeyScope
from portal.web.registry import secret_box
from tests.support.concurrency import run_concurrently
from tests.support.provisioning import Api, api_key


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    """Return the API called with a Production key."""
    return Api(client, api_key(app, "production"))


def key_scope() -> KeyScope:
    """Return the scope of the only API key."""
    (key,) = list_api_keys()
    return KeyScope(key.id, key.prefix, key.company_id, key.environment)


@pytest.mark.services
def test_concurrent_updates_of_one_connector_lose_no_write(app: Flask, api: Api) -> None:
    guid = api.connector(api.merchant())["guid"]
    count = 6

    def add_setting(n: int):
        scope = key_scope()
        data = ConnectorUpdate.model_validate({"addSettings": {f"key-{n}": str(n)}})
        return provisioning.update_connector(
            scope.actor("127.0.0.1"), scope, guid, data, secret_box()
        )

    results = run_concurrently(app, count, add_setting)
    assert not [result for result in results if isinstance(result, Exception)], results
    settings = api.get(f"getConnector/{guid}").get_json()["connector"]["settings"]
    assert settings == {f"key-{n}": str(n) for n in range(count)}
    with app.app_context():
        updates = db.session.scalar(
            select(func.count()).where(AuditEvent.action == "connection.update")
        )
    assert updates == count


@pytest.mark.services
def test_concurrent_creates_for_a_new_network_share_one_integration(app: Flask, api: Api) -> None:
    merchant = api.merchant()
    count = 4

    def create(n: int):
        scope = key_scope()
        data = NewConnectorInput.model_validate(
            {"network": "Visa", "name": f"Connector {n}", "adapter": "Simulator", "method": "cc"}
        )
        return provisioning.create_connector(scope.actor(None), scope, merchant, data, secret_box())

    results = run_concurrently(app, count, create)
    assert not [result for result in results if isinstance(result, Exception)], results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Integration)) == 1
    assert len(api.get(f"listConnectors/{merchant}").get_json()["connectors"]) == count


@pytest.mark.services
def test_each_write_is_one_audit_event_naming_the_key(app: Flask, api: Api) -> None:
    with app.app_context():
        first = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    merchant = api.merchant()
    guid = api.connector(merchant, network="Amex")["guid"]  # creates the integration too
    api.post(f"updateConnector/{guid}", {"description": "Changed", "config": {"password": "pw"}})
    with app.app_context():
        new = list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.id > first).order_by(AuditEvent.id)
            )
        )
    assert [event.action for event in new] == [
        "customer.create",
        "connection.create",
        "connection.update",
    ]
    assert {event.actor_label for event in new} == {"API key " + api.key[:21]}
    created = new[1].changes
    assert created["integration_created"] is True and created["network"] == "Amex"
    assert created["shared_secret"] == "[redacted]"
    assert new[2].changes["password"] == "[redacted]"
    assert new[2].changes["description"] == [None, "Changed"]
