"""Flow services: routing rules whose default connection stays in the integration."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Connection, Flow
from portal.schemas.connect import FlowInput
from portal.services import flows
from portal.services.actor import Actor
from portal.services.errors import Conflict, NotFound
from tests import factories
from tests.factories import flow_data
from tests.support.queries import count, events

pytestmark = pytest.mark.usefixtures("app_context")

ACTOR = Actor.system("tester")


def test_create_flow_and_audit() -> None:
    connection = factories.make_connection()
    flow = flows.create_flow(
        ACTOR,
        connection.integration,
        FlowInput.model_validate(flow_data(connection, retries=9, expiry_hours=48)),
    )
    assert flow.default_connection == connection
    assert (flow.retries, flow.expiry_hours) == (9, 48)
    [event_] = events("flow.create")
    assert event_.changes["default_connection"] == connection.public_id


def test_a_flow_cannot_point_at_another_integrations_connection() -> None:
    foreign = factories.make_connection()
    integration = factories.make_integration(foreign.integration.customer)
    with pytest.raises(NotFound) as info:
        flows.create_flow(ACTOR, integration, FlowInput.model_validate(flow_data(foreign)))
    assert info.value.field == "default_connection_id"
    assert count(Flow) == 0


@pytest.mark.services
def test_the_schema_keeps_a_flows_connection_inside_its_integration() -> None:
    flow = factories.make_flow(factories.make_integration())
    foreign = factories.make_connection()
    with pytest.raises(IntegrityError):
        db.session.execute(
            update(Flow).where(Flow.id == flow.id).values(default_connection_id=foreign.id)
        )
    db.session.rollback()


@pytest.mark.services
def test_the_schema_refuses_ten_retries() -> None:
    flow = factories.make_flow(factories.make_integration())
    with pytest.raises(IntegrityError):
        db.session.execute(update(Flow).where(Flow.id == flow.id).values(retries=10))
    db.session.rollback()


def test_flows_of_another_integration_are_not_found() -> None:
    flow = factories.make_flow(factories.make_integration())
    with pytest.raises(NotFound):
        flows.get_flow(factories.make_integration(), flow.id)


@pytest.mark.services
def test_flow_names_are_unique_per_integration() -> None:
    integration = factories.make_integration()
    connection = factories.make_connection(integration)
    factories.make_flow(integration, connection, name="Main")
    with pytest.raises(Conflict) as info:
        factories.make_flow(integration, connection, name="Main")
    assert info.value.field == "name"


def test_delete_flow_keeps_its_connection() -> None:
    flow = factories.make_flow(factories.make_integration())
    flows.delete_flow(ACTOR, flow)
    assert count(Flow) == 0 and count(Connection) == 1
    assert events("flow.delete")
