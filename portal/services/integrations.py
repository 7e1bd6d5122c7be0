"""Integrations of a customer: one per network, in Design until they go Live.

Every lookup is scoped by its customer, so an id from another customer is NotFound: data never
crosses customers. Deleting an integration deletes its connections and flows with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from portal.core.names import name_key
from portal.extensions import db
from portal.models import Connection, Customer, Flow, Integration, IntegrationType
from portal.schemas.connect import IntegrationInput
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, InvalidInput
from portal.services.persistence import (
    add_audited,
    delete_audited,
    one_or_not_found,
    unique_or_conflict,
)


def get_integration(customer: Customer, integration_id: int) -> Integration:
    """Return the customer's integration or raise NotFound (also for another customer's)."""
    query = select(Integration).where(
        Integration.id == integration_id, Integration.customer_id == customer.id
    )
    return one_or_not_found(query, "That integration does not exist.")


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
    add_audited(
        actor,
        integration,
        "integration.create",
        _network_taken(data.network),
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
    unique_or_conflict(_network_taken(data.network))
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
    changes = {
        "customer": integration.customer.public_id,
        "network": integration.network,
        "connections": summary.connections,
        "flows": summary.flows,
    }
    # Flows first: they point at connections, which RESTRICT their deletion otherwise.
    db.session.execute(delete(Flow).where(Flow.integration_id == integration.id))
    db.session.execute(delete(Connection).where(Connection.integration_id == integration.id))
    gone = "That integration was deleted meanwhile."
    delete_audited(actor, integration, "integration.delete", gone, changes=changes)
    db.session.commit()
    db.session.expire_all()
    return summary
