"""Connect services: customers, integrations, connections and flows, on a real database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import IntegrityError

from portal.core.public_ids import CONNECTION_PREFIX, CUSTOMER_PREFIX, is_public_id
from portal.extensions import db
from portal.models import AuditEvent, Connection, Customer, Flow, Integration
from portal.schemas.connect import ConnectionInput, CustomerInput, FlowInput, IntegrationInput
from portal.services import connections, customers, flows, integrations
from portal.services.actor import Actor
from portal.services.errors import Conflict, InvalidInput, NotFound
from portal.web.registry import secret_box
from tests import factories
from tests.services.test_users import run_concurrently

pytestmark = pytest.mark.usefixtures("app_context")

ACTOR = Actor.system("tester")


def count(model) -> int:
    """Count the rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def events(action: str) -> list[AuditEvent]:
    """Return the audit events of one action, oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def connection_input(**fields) -> ConnectionInput:
    """Return a valid connection input with the seed's simulator values."""
    data = {"name": "SimulatorConnector A", "adapter": "Simulator", "method": "Credit Card"}
    return ConnectionInput.model_validate({**data, **fields})


# ------------------------------------------------------------------------------- customers


def test_create_customer_gets_a_public_id_and_the_default_company() -> None:
    customer = factories.make_customer("Acme Payer")
    assert is_public_id(customer.public_id, CUSTOMER_PREFIX)
    assert customer.company.name == "Default Company"
    [event_] = events("customer.create")
    assert event_.object_id == customer.public_id
    assert event_.changes == {"name": "Acme Payer", "company": "Default Company"}


def test_create_customer_refuses_an_unknown_company() -> None:
    factories.setup_account()
    with pytest.raises(InvalidInput) as info:
        customers.create_customer(ACTOR, CustomerInput(name="Acme"), 999_999)
    assert info.value.field == "company_id"
    assert count(Customer) == 0


def test_get_customer_unknown_is_not_found() -> None:
    with pytest.raises(NotFound):
        customers.get_customer("ME-0000-0000-0000-0000-0000-0000")


def test_search_by_name_ignores_case_and_by_id_prefix() -> None:
    alpha = factories.make_customer("Alpha Payments")
    factories.make_customer("Beta Bank")
    factories.make_customer("100% Pay")
    names = [c.name for c in customers.list_customers("PAYMENTS").customers]
    assert names == ["Alpha Payments"]
    by_id = customers.list_customers(alpha.public_id[:12]).customers
    assert alpha in by_id
    # LIKE wildcards are literal: "%" finds only the name that has one.
    assert [c.name for c in customers.list_customers("%").customers] == ["100% Pay"]


def test_keyset_pages_walk_forward_and_back_without_gaps() -> None:
    created = [factories.make_customer(f"Customer {i:02d}") for i in range(7)]
    expected = [c.name for c in created]
    first = customers.list_customers(limit=3)
    second = customers.list_customers(after=first.next_after, limit=3)
    third = customers.list_customers(after=second.next_after, limit=3)
    walked = [c.name for page in (first, second, third) for c in page.customers]
    assert walked == expected
    assert first.previous_before is None and third.next_after is None
    back = customers.list_customers(before=third.previous_before, limit=3)
    assert [c.name for c in back.customers] == expected[3:6]
    assert back.next_after == second.next_after


# ---------------------------------------------------------------------------- integrations


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


# ----------------------------------------------------------------------------- connections


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


# ----------------------------------------------------------------------------------- flows


def flow_data(connection: Connection, **fields) -> dict:
    """Return valid flow input routing to the connection."""
    return {
        "name": "Main flow",
        "transaction_types": ["initial_debit", "refund"],
        "default_connection_id": connection.public_id,
        **fields,
    }


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
