"""Connection services: secrets at rest, edits that keep what was not sent, scope."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from portal.core.public_ids import CONNECTION_PREFIX, is_public_id
from portal.extensions import db
from portal.models import Connection, Integration
from portal.schemas.connect import ConnectionInput, FlowInput
from portal.services import connections, flows
from portal.services.actor import Actor
from portal.services.errors import Conflict, NotFound
from portal.web.registry import secret_box
from tests import factories
from tests.factories import connection_input, flow_data
from tests.support.concurrency import run_concurrently
from tests.support.queries import count, events
from tests.support.unicode import fullwidth

pytestmark = pytest.mark.usefixtures("app_context")

ACTOR = Actor.system("tester")


def test_secrets_are_encrypted_at_rest_and_masked() -> None:
    integration = factories.make_integration()
    connection = connections.create_connection(
        ACTOR,
        integration,
        connection_input(
            shared_secret="OsEPpNrSr8hxYR3BO0F73YXMvMdDsM",
            config={"username": "asmith", "password": "supersecure1", "api_secret": "ljkllLkk3"},
        ),
        secret_box(),
    )
    assert is_public_id(connection.public_id, CONNECTION_PREFIX)
    raw = db.session.execute(
        text("SELECT * FROM connections WHERE id = :id"), {"id": connection.id}
    ).one()
    dump = json.dumps([str(value) for value in raw])
    for plaintext in ("OsEPpNrSr8hxYR3BO0F73YXMvMdDsM", "supersecure1", "ljkllLkk3"):
        assert plaintext not in dump
    masked = connections.masked_secrets(connection, secret_box())
    assert masked.shared_secret == "...dDsM"
    assert masked.password == "...ure1"
    assert masked.api_secret == "••••"


def test_an_empty_shared_secret_is_generated() -> None:
    connection = factories.make_connection()
    assert connection.shared_secret_encrypted
    assert len(secret_box().decrypt(connection.shared_secret_encrypted)) == 30


def test_editing_keeps_empty_secrets_and_untouched_fields() -> None:
    connection = factories.make_connection(
        config={"username": "asmith", "password": "supersecure1", "test_mode": True},
        scheduler_enabled=True,
        settings={"tx:expiration-minutes": "900"},
    )
    shared = connection.shared_secret_encrypted
    password = connection.password_encrypted
    # Only the name is sent: nothing else flips, no secret is lost.
    data = ConnectionInput.model_validate(
        {"name": "Renamed", "adapter": "Simulator", "method": "Credit Card"}
    )
    connections.update_connection(ACTOR, connection, data, secret_box())
    assert connection.name == "Renamed"
    assert connection.test_mode is True and connection.scheduler_enabled is True
    assert connection.settings == {"tx:expiration-minutes": "900"}
    assert (connection.shared_secret_encrypted, connection.password_encrypted) == (
        shared,
        password,
    )
    data = connection_input(name="Renamed", config={"username": "asmith", "test_mode": True})
    connections.update_connection(ACTOR, connection, data, secret_box())
    assert connection.password_encrypted == password
    connections.update_connection(
        ACTOR, connection, connection_input(config={"password": "new-pw"}), secret_box()
    )
    assert connections.masked_secrets(connection, secret_box()).password == "••••"


def test_audit_events_redact_secrets() -> None:
    connection = factories.make_connection(
        shared_secret="V0WkgQPsHAUH4iXCsqWGYDeFKc4O6G", config={"password": "supersecure1"}
    )
    connections.update_connection(
        ACTOR, connection, connection_input(config={"password": "another-secret-1"}), secret_box()
    )
    recorded = json.dumps(
        [e.changes for e in events("connection.create") + events("connection.update")]
    )
    for plaintext in ("V0WkgQPsHAUH4iXCsqWGYDeFKc4O6G", "supersecure1", "another-secret-1"):
        assert plaintext not in recorded
    [update_event] = events("connection.update")
    assert update_event.changes["password"] == "[redacted]"


def test_disabling_keeps_credentials() -> None:
    connection = factories.make_connection(config={"password": "supersecure1"})
    before = (connection.password_encrypted, connection.shared_secret_encrypted)
    connections.set_connection_enabled(ACTOR, connection, False)
    assert connection.enabled is False
    assert (connection.password_encrypted, connection.shared_secret_encrypted) == before
    assert [e.action for e in events("connection.disable")] == ["connection.disable"]
    # Disabling twice changes nothing and writes nothing.
    connections.set_connection_enabled(ACTOR, connection, False)
    assert len(events("connection.disable")) == 1


@pytest.mark.services
def test_connection_names_are_unique_per_integration() -> None:
    integration = factories.make_integration()
    factories.make_connection(integration, name="Primary")
    with pytest.raises(Conflict) as info:
        factories.make_connection(integration, name="Primary")
    assert info.value.field == "name"
    factories.make_connection(factories.make_integration(), name="Primary")


@pytest.mark.services
def test_concurrent_adds_of_one_connection_name_give_one_connection(app) -> None:
    integration_id = factories.make_integration().id

    def add(n: int) -> Connection:
        integration = db.session.get(Integration, integration_id)
        return connections.create_connection(
            ACTOR, integration, connection_input(name="Primary"), secret_box()
        )

    results = run_concurrently(app, 4, add)
    assert sum(isinstance(r, Connection) for r in results) == 1
    errors = [r for r in results if not isinstance(r, Connection)]
    assert all(isinstance(e, Conflict) and e.field == "name" for e in errors), errors
    db.session.expire_all()
    assert count(Connection) == 1


def test_connections_of_another_integration_are_not_found() -> None:
    connection = factories.make_connection()
    other = factories.make_integration(connection.integration.customer)
    with pytest.raises(NotFound):
        connections.get_connection(other, connection.public_id)
    with pytest.raises(NotFound):
        connections.get_connection(connection.integration, "not-an-id")


@pytest.mark.services
def test_a_connection_used_by_a_flow_cannot_be_deleted_until_the_flow_moves() -> None:
    integration = factories.make_integration()
    used = factories.make_connection(integration, name="Used")
    spare = factories.make_connection(integration, name="Spare")
    flow = factories.make_flow(integration, used, name="Main flow")
    with pytest.raises(Conflict) as info:
        connections.delete_connection(ACTOR, used)
    assert "“Main flow”" in info.value.message
    assert count(Connection) == 2
    flows.update_flow(
        ACTOR, flow, FlowInput.model_validate({**flow_data(spare), "name": "Main flow"})
    )
    connections.delete_connection(ACTOR, used)
    assert count(Connection) == 1
    assert events("connection.delete")


@pytest.mark.services
@pytest.mark.parametrize(
    "lookalike", ["conn dup", "Conn  Dup", fullwidth("CONN DUP"), " CONN DUP "]
)
def test_lookalike_connection_names_are_one_name(lookalike: str) -> None:
    integration = factories.make_integration()
    factories.make_connection(integration, name="Conn Dup")
    with pytest.raises(Conflict) as raised:
        factories.make_connection(integration, name=lookalike)
    assert raised.value.field == "name"
    assert count(Connection) == 1
