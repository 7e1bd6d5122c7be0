"""Integrations of a customer, and each integration's connections and flows.

Every lookup is scoped by its parent (customer -> integration -> connection or flow), so an
id from another customer or integration is NotFound: data never crosses integrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from portal.crypto import mask_secret, secret_box
from portal.extensions import db
from portal.models import Connection, Customer, Flow, Integration, IntegrationType
from portal.public_ids import CONNECTION_PREFIX, is_public_id, new_public_id
from portal.schemas.connect import (
    ConnectionInput,
    FlowInput,
    IntegrationInput,
    generate_shared_secret,
)
from portal.services import audit
from portal.services.actor import Actor
from portal.services.customers import name_key
from portal.services.errors import Conflict, InvalidInput, NotFound

# ---------------------------------------------------------------------------- integrations


def get_integration(customer: Customer, integration_id: int) -> Integration:
    """Return the customer's integration or raise NotFound (also for another customer's)."""
    integration = db.session.scalar(
        select(Integration).where(
            Integration.id == integration_id, Integration.customer_id == customer.id
        )
    )
    if integration is None:
        raise NotFound("That integration does not exist.")
    return integration


def _network_taken(network: str) -> Conflict:
    return Conflict(
        f"This customer already has an integration for the network “{network}”.", field="network"
    )


def create_integration(actor: Actor, customer: Customer, data: IntegrationInput) -> Integration:
    """Add an integration in Design; one per network and customer."""
    integration = Integration(
        customer_id=customer.id,
        name=data.name,
        name_key=name_key(data.name),
        network=data.network,
        network_key=name_key(data.network),
        type=IntegrationType.DESIGN.value,
    )
    db.session.add(integration)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _network_taken(data.network) from None
    audit.record(
        actor,
        "integration.create",
        integration,
        changes={
            "customer": customer.public_id,
            "name": integration.name,
            "network": integration.network,
            "type": integration.type,
        },
    )
    db.session.commit()
    return integration


def enabled_connection_count(integration: Integration) -> int:
    """Return how many enabled connections the integration has."""
    query = select(func.count()).where(
        Connection.integration_id == integration.id, Connection.enabled.is_(True)
    )
    return db.session.scalar(query) or 0


def can_go_live(integration: Integration) -> bool:
    """Tell whether the integration may switch to Live (it needs an enabled connection)."""
    return enabled_connection_count(integration) > 0


def update_integration(
    actor: Actor, integration: Integration, data: IntegrationInput, type_: str | None = None
) -> Integration:
    """Rename the integration (or move its network) and, when given, change its Type."""
    before = {"name": integration.name, "network": integration.network, "type": integration.type}
    after = {"name": data.name, "network": data.network, "type": integration.type}
    if type_ is not None:
        try:
            after["type"] = IntegrationType(type_).value
        except ValueError:
            raise InvalidInput("Type must be Design or Live.", field="type") from None
        if (
            after["type"] == IntegrationType.LIVE
            and integration.type != IntegrationType.LIVE
            and not can_go_live(integration)
        ):
            raise InvalidInput(
                "The integration can go Live once it has at least one enabled connection.",
                field="type",
            )
    changes = audit.diff(before, after)
    if not changes:
        return integration
    integration.name = data.name
    integration.name_key = name_key(data.name)
    integration.network = data.network
    integration.network_key = name_key(data.network)
    integration.type = after["type"]
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _network_taken(data.network) from None
    audit.record(actor, "integration.update", integration, changes=changes)
    db.session.commit()
    return integration


@dataclass(frozen=True)
class DeletionSummary:
    """What goes with an integration when it is deleted."""

    connections: int
    flows: int

    @property
    def counts(self) -> str:
        """Say what goes: "3 connections and 2 flows"."""

        def plural(count: int, noun: str) -> str:
            return f"{count} {noun}{'' if count == 1 else 's'}"

        return f"{plural(self.connections, 'connection')} and {plural(self.flows, 'flow')}"

    @property
    def sentence(self) -> str:
        """Say it the way the confirmation does: "3 connections and 2 flows will be deleted"."""
        return f"{self.counts} will be deleted"


def deletion_summary(integration: Integration) -> DeletionSummary:
    """Count the connections and flows that deleting the integration deletes."""
    connections = db.session.scalar(
        select(func.count()).where(Connection.integration_id == integration.id)
    )
    flows = db.session.scalar(select(func.count()).where(Flow.integration_id == integration.id))
    return DeletionSummary(connections=connections or 0, flows=flows or 0)


def delete_integration(actor: Actor, integration: Integration) -> DeletionSummary:
    """Delete the integration with all its flows and connections, in one transaction."""
    summary = deletion_summary(integration)
    audit.record(
        actor,
        "integration.delete",
        integration,
        changes={
            "customer": integration.customer.public_id,
            "network": integration.network,
            "connections": summary.connections,
            "flows": summary.flows,
        },
    )
    # Flows first: they point at connections, which RESTRICT their deletion otherwise.
    db.session.execute(delete(Flow).where(Flow.integration_id == integration.id))
    db.session.execute(delete(Connection).where(Connection.integration_id == integration.id))
    db.session.execute(delete(Integration).where(Integration.id == integration.id))
    db.session.commit()
    db.session.expire_all()
    return summary


# ----------------------------------------------------------------------------- connections

# Columns copied as they are from ConnectionInput (top level) and its config.
_PLAIN_FIELDS = (
    "name",
    "adapter",
    "method",
    "api_key",
    "public_integration_key",
    "business_country",
    "description",
    "disabled_transaction_types",
    "postback_format",
    "scheduler_enabled",
    "virtual_terminal_enabled",
    "alias",
    "settings",
)
_CONFIG_FIELDS = ("username", "language", "test_mode", "extra_data")
_CONFIG_SECRETS = {"password": "password_encrypted", "api_secret": "api_secret_encrypted"}


def get_connection(integration: Integration, public_id: str) -> Connection:
    """Return the integration's connection or raise NotFound (also for another's)."""
    connection = None
    if is_public_id(public_id, CONNECTION_PREFIX):
        connection = db.session.scalar(
            select(Connection).where(
                Connection.public_id == public_id, Connection.integration_id == integration.id
            )
        )
    if connection is None:
        raise NotFound("That connection does not exist in this integration.")
    return connection


def _snapshot(connection: Connection) -> dict[str, Any]:
    """Return the audited view of a connection: plain values, secrets as fingerprints."""
    values: dict[str, Any] = {name: getattr(connection, name) for name in _PLAIN_FIELDS}
    values.update({name: getattr(connection, name) for name in _CONFIG_FIELDS})
    values["terminals"] = connection.terminals
    # The tokens change whenever a secret changes; audit.redact hides the value itself.
    values["shared_secret"] = connection.shared_secret_encrypted
    values["password"] = connection.password_encrypted
    values["api_secret"] = connection.api_secret_encrypted
    return values


def _apply(connection: Connection, data: ConnectionInput, *, creating: bool) -> None:
    """Copy the input onto the connection; on edit only the fields the caller sent."""
    sent = set(ConnectionInput.model_fields) if creating else data.model_fields_set
    box = secret_box()
    for name in _PLAIN_FIELDS:
        if name in sent:
            setattr(connection, name, getattr(data, name))
    if "terminals" in sent:
        connection.terminals = [terminal.model_dump() for terminal in data.terminals]
    if "config" in sent:
        config = data.config
        config_sent = set(type(config).model_fields) if creating else config.model_fields_set
        for name in _CONFIG_FIELDS:
            if name in config_sent:
                setattr(connection, name, getattr(config, name))
        # An empty secret means "keep the stored one".
        for name, column in _CONFIG_SECRETS.items():
            secret = getattr(config, name)
            if secret is not None:
                setattr(connection, column, box.encrypt(secret.get_secret_value()))
    if data.shared_secret is not None:
        connection.shared_secret_encrypted = box.encrypt(data.shared_secret.get_secret_value())
    elif creating:
        connection.shared_secret_encrypted = box.encrypt(generate_shared_secret())


def _name_taken(name: str) -> Conflict:
    return Conflict(f"This integration already has a connection named “{name}”.", field="name")


def create_connection(actor: Actor, integration: Integration, data: ConnectionInput) -> Connection:
    """Add an enabled connection; the shared secret is generated when left empty."""
    connection = Connection(
        public_id=new_public_id(CONNECTION_PREFIX), integration_id=integration.id, enabled=True
    )
    _apply(connection, data, creating=True)
    db.session.add(connection)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _name_taken(data.name) from None
    changes = {name: value for name, value in _snapshot(connection).items() if value is not None}
    audit.record(
        actor,
        "connection.create",
        connection,
        object_id=connection.public_id,
        changes={"integration": integration.id, **changes},
    )
    db.session.commit()
    return connection


def update_connection(actor: Actor, connection: Connection, data: ConnectionInput) -> Connection:
    """Change the fields the caller sent; empty secrets keep their stored values."""
    before = _snapshot(connection)
    _apply(connection, data, creating=False)
    changes = audit.diff(before, _snapshot(connection))
    if not changes:
        return connection
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _name_taken(data.name) from None
    audit.record(
        actor, "connection.update", connection, object_id=connection.public_id, changes=changes
    )
    db.session.commit()
    return connection


def set_connection_enabled(actor: Actor, connection: Connection, enabled: bool) -> Connection:
    """Enable or disable the connection; its credentials stay as they are."""
    if connection.enabled == enabled:
        return connection
    connection.enabled = enabled
    action = "connection.enable" if enabled else "connection.disable"
    audit.record(actor, action, connection, object_id=connection.public_id)
    db.session.commit()
    return connection


def flows_using(connection: Connection) -> list[Flow]:
    """Return the flows whose default connection is this one."""
    query = select(Flow).where(
        Flow.integration_id == connection.integration_id,
        Flow.default_connection_id == connection.id,
    )
    return list(db.session.scalars(query.order_by(Flow.name)))


def _in_use(connection: Connection, flows: list[Flow]) -> Conflict:
    names = ", ".join(f"“{flow.name}”" for flow in flows) or "a flow"
    return Conflict(
        f"“{connection.name}” is the default connection of {names}. "
        "Choose another default connection for the flow before deleting this connection."
    )


def delete_connection(actor: Actor, connection: Connection) -> None:
    """Delete a connection that no flow routes to."""
    flows = flows_using(connection)
    if flows:
        raise _in_use(connection, flows)
    audit.record(
        actor,
        "connection.delete",
        connection,
        object_id=connection.public_id,
        changes={"integration": connection.integration_id},
    )
    db.session.delete(connection)
    try:
        db.session.flush()
    except IntegrityError:
        # A flow started using it since the check above; the schema's RESTRICT caught it.
        db.session.rollback()
        raise _in_use(connection, []) from None
    db.session.commit()


@dataclass(frozen=True)
class MaskedSecrets:
    """A connection's secrets as they may be shown: masked, or None when not set."""

    shared_secret: str | None
    password: str | None
    api_secret: str | None


def masked_secrets(connection: Connection) -> MaskedSecrets:
    """Return the connection's secrets masked for display (decryption fails closed)."""
    box = secret_box()

    def mask(token: str | None) -> str | None:
        return mask_secret(box.decrypt(token)) if token else None

    return MaskedSecrets(
        shared_secret=mask(connection.shared_secret_encrypted),
        password=mask(connection.password_encrypted),
        api_secret=mask(connection.api_secret_encrypted),
    )


# ----------------------------------------------------------------------------------- flows


def get_flow(integration: Integration, flow_id: int) -> Flow:
    """Return the integration's flow or raise NotFound (also for another's)."""
    flow = db.session.scalar(
        select(Flow).where(Flow.id == flow_id, Flow.integration_id == integration.id)
    )
    if flow is None:
        raise NotFound("That flow does not exist in this integration.")
    return flow


def _default_connection(integration: Integration, public_id: str) -> Connection:
    """Resolve a flow's default connection within the integration, or NotFound on its field."""
    try:
        return get_connection(integration, public_id)
    except NotFound:
        raise NotFound(
            "Choose a connection of this integration as the default connection.",
            field="default_connection_id",
        ) from None


def _flow_values(flow: Flow) -> dict[str, Any]:
    return {
        "name": flow.name,
        "transaction_types": flow.transaction_types,
        "default_connection": flow.default_connection.public_id
        if flow.default_connection_id
        else None,
        "re_route_recurring": flow.re_route_recurring,
        "retries": flow.retries,
        "expiry_hours": flow.expiry_hours,
    }


def _flow_name_taken(name: str) -> Conflict:
    return Conflict(f"This integration already has a flow named “{name}”.", field="name")


def create_flow(actor: Actor, integration: Integration, data: FlowInput) -> Flow:
    """Add a flow routing to a connection of the same integration."""
    connection = _default_connection(integration, data.default_connection_id)
    flow = Flow(
        integration_id=integration.id,
        name=data.name,
        transaction_types=list(data.transaction_types),
        default_connection_id=connection.id,
        re_route_recurring=data.re_route_recurring,
        retries=data.retries,
        expiry_hours=data.expiry_hours,
    )
    db.session.add(flow)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _flow_name_taken(data.name) from None
    audit.record(
        actor,
        "flow.create",
        flow,
        changes={"integration": integration.id, **_flow_values(flow)},
    )
    db.session.commit()
    return flow


def update_flow(actor: Actor, flow: Flow, data: FlowInput) -> Flow:
    """Change the fields the caller sent; the default connection stays in the integration."""
    sent = data.model_fields_set
    connection = (
        _default_connection(flow.integration, data.default_connection_id)
        if "default_connection_id" in sent
        else None
    )
    before = _flow_values(flow)
    for name in ("name", "re_route_recurring", "retries", "expiry_hours"):
        if name in sent:
            setattr(flow, name, getattr(data, name))
    if "transaction_types" in sent:
        flow.transaction_types = list(data.transaction_types)
    if connection is not None:
        flow.default_connection_id = connection.id
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _flow_name_taken(data.name) from None
    db.session.expire(flow, ["default_connection"])
    changes = audit.diff(before, _flow_values(flow))
    if not changes:
        return flow
    audit.record(actor, "flow.update", flow, changes=changes)
    db.session.commit()
    return flow


def delete_flow(actor: Actor, flow: Flow) -> None:
    """Delete a flow; its default connection stays."""
    audit.record(actor, "flow.delete", flow, changes={"integration": flow.integration_id})
    db.session.delete(flow)
    db.session.commit()
