"""Integration services: one per network, Type, cascade delete, scope."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import event, text

from portal.extensions import db
from portal.models import Connection, Customer, Flow, Integration
from portal.schemas.connect import IntegrationInput
from portal.services import connections, integrations
from portal.services.actor import Actor
from portal.services.errors import Conflict, InvalidInput, NotFound
from tests import factories
from tests.support.concurrency import run_concurrently
from tests.support.queries import count, events
from tests.support.unicode import fullwidth

pytestmark = pytest.mark.usefixtures("app_context")

ACTOR = Actor.system("tester")


def test_new_integration_is_in_design_and_audited() -> None:
    integration = factories.make_integration(name="Visa", network="Visa")
    assert integration.type == "design"
    [event_] = events("integration.create")
    assert event_.changes["network"] == "Visa"


@pytest.mark.services
def test_a_network_is_unique_per_customer_regardless_of_case() -> None:
    customer = factories.make_customer()
    factories.make_integration(customer, network="Visa")
    with pytest.raises(Conflict) as info:
        integrations.create_integration(
            ACTOR, customer, IntegrationInput(name="Other", network="VISA")
        )
    assert info.value.field == "network"
    # Another customer may connect with the same network.
    factories.make_integration(factories.make_customer(), network="Visa")
    assert count(Integration) == 2


@pytest.mark.services
def test_concurrent_adds_of_one_network_give_one_integration(app) -> None:
    customer = factories.make_customer()
    customer_id = customer.id

    def add(n: int) -> Integration:
        payer = db.session.get(Customer, customer_id)
        return integrations.create_integration(
            ACTOR, payer, IntegrationInput(name=f"Visa {n}", network="Visa")
        )

    results = run_concurrently(app, 4, add)
    assert sum(isinstance(r, Integration) for r in results) == 1
    errors = [r for r in results if not isinstance(r, Integration)]
    assert all(isinstance(e, Conflict) and e.field == "network" for e in errors), errors
    db.session.expire_all()
    assert count(Integration) == 1 and len(events("integration.create")) == 1


def test_rename_keeps_the_type_when_none_is_sent() -> None:
    integration = factories.make_integration(name="Old", network="Visa")
    integrations.update_integration(
        ACTOR, integration, IntegrationInput(name="New", network="Visa")
    )
    assert (integration.name, integration.type) == ("New", "design")
    [event_] = events("integration.update")
    assert event_.changes == {"name": ["Old", "New"]}


def test_live_needs_an_enabled_connection() -> None:
    integration = factories.make_integration(network="Visa")
    data = IntegrationInput(name=integration.name, network="Visa")
    with pytest.raises(InvalidInput) as info:
        integrations.update_integration(ACTOR, integration, data, "live")
    assert info.value.field == "type"
    connection = factories.make_connection(integration)
    connections.set_connection_enabled(ACTOR, connection, False)
    with pytest.raises(InvalidInput):
        integrations.update_integration(ACTOR, integration, data, "live")
    connections.set_connection_enabled(ACTOR, connection, True)
    integrations.update_integration(ACTOR, integration, data, "live")
    assert integration.type == "live"


def test_unknown_type_is_refused() -> None:
    integration = factories.make_integration(network="Visa")
    with pytest.raises(InvalidInput):
        integrations.update_integration(
            ACTOR, integration, IntegrationInput(name="x", network="Visa"), "beta"
        )


def build_integration_with(connection_count: int, flow_count: int) -> Integration:
    """Create an integration holding that many connections and flows."""
    integration = factories.make_integration()
    made = [factories.make_connection(integration) for _ in range(connection_count)]
    for index in range(flow_count):
        factories.make_flow(integration, made[index % len(made)])
    return integration


@pytest.mark.services
def test_delete_integration_cascades_in_one_transaction_and_leaves_no_orphans() -> None:
    doomed = build_integration_with(3, 2)
    kept = build_integration_with(1, 1)
    assert (
        integrations.deletion_summary(doomed).sentence
        == "3 connections and 2 flows will be deleted"
    )

    commits = []
    listener = lambda session: commits.append(session)  # noqa: E731
    event.listen(db.session, "after_commit", listener)
    try:
        summary = integrations.delete_integration(ACTOR, doomed)
    finally:
        event.remove(db.session, "after_commit", listener)

    assert len(commits) == 1
    assert (summary.connections, summary.flows) == (3, 2)
    assert count(Integration) == 1 and count(Connection) == 1 and count(Flow) == 1
    orphans = db.session.execute(
        text(
            "SELECT (SELECT count(*) FROM connections WHERE integration_id NOT IN "
            "(SELECT id FROM integrations)) + (SELECT count(*) FROM flows WHERE integration_id "
            "NOT IN (SELECT id FROM integrations))"
        )
    ).scalar()
    assert orphans == 0
    [event_] = events("integration.delete")
    assert event_.changes["connections"] == 3 and event_.changes["flows"] == 2
    assert kept.connections and kept.flows


@pytest.mark.services
def test_the_schema_cascades_a_raw_integration_delete() -> None:
    integration = build_integration_with(2, 2)
    db.session.execute(text("DELETE FROM integrations WHERE id = :id"), {"id": integration.id})
    db.session.commit()
    assert count(Connection) == 0 and count(Flow) == 0


def test_integrations_of_another_customer_are_not_found() -> None:
    integration = factories.make_integration()
    other = factories.make_customer()
    with pytest.raises(NotFound):
        integrations.get_integration(other, integration.id)


def test_a_zero_width_space_does_not_get_around_one_integration_per_network() -> None:
    customer = factories.make_customer()
    factories.make_integration(customer, network="Mastercard")
    with pytest.raises(ValidationError):
        IntegrationInput(name="Again", network="Mastercard\u200b")
    with pytest.raises(Conflict):
        factories.make_integration(customer, network=fullwidth("MASTERCARD"))
