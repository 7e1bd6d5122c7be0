"""Flows of an integration: routing rules whose default connection is in the same integration.

Every lookup is scoped by its integration, so an id from another integration is NotFound: data
never crosses integrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection, Flow, Integration, MetaKind
from portal.schemas.connect import FlowInput
from portal.services import audit
from portal.services.actor import Actor
from portal.services.connections import get_connection
from portal.services.errors import Conflict, NotFound
from portal.services.persistence import (
    add_audited,
    delete_audited,
    one_or_not_found,
    unique_or_conflict,
)


def get_flow(integration: Integration, flow_id: int) -> Flow:
    """Return the integration's flow or raise NotFound (also for another's)."""
    # A meta-connector's flow is edited through its connection, never on its own.
    query = select(Flow).where(
        Flow.id == flow_id,
        Flow.integration_id == integration.id,
        Flow.meta_connection_id.is_(None),
    )
    return one_or_not_found(query, "That flow does not exist in this integration.")


def _default_connection(integration: Integration, public_id: str) -> Connection:
    """Resolve a flow's default connection within the integration, or NotFound on its field."""
    try:
        return get_connection(integration, public_id)
    except NotFound:
        raise NotFound(
            "Choose a connection of this integration as the default connection.",
            field="default_connection_id",
        ) from None


def _public_id(connection: Connection | None) -> str | None:
    """Return a default connection as the audit trail records it: its public id, or None."""
    return connection.public_id if connection else None


def _flow_values(flow: Flow) -> dict[str, Any]:
    """Return a flow's fields as the audit trail records them."""
    return {
        "name": flow.name,
        "transaction_types": flow.transaction_types,
        "default_connection": _public_id(flow.default_connection),
        "re_route_recurring": flow.re_route_recurring,
        "retries": flow.retries,
        "expiry_hours": flow.expiry_hours,
    }


#: What create and update take from the input unchanged; the default connection is resolved
#: within the integration and the transaction types become a list.
_COPIED_FIELDS = ("name", "re_route_recurring", "retries", "expiry_hours")


def _flow_name_taken(name: str) -> Conflict:
    """Return the conflict raised when the integration already has a flow of that name."""
    return Conflict(f"This integration already has a flow named “{name}”.", field="name")


def create_flow(actor: Actor, integration: Integration, data: FlowInput) -> Flow:
    """Add a flow routing to a connection of the same integration."""
    connection = _default_connection(integration, data.default_connection_id)
    flow = Flow(
        integration_id=integration.id,
        transaction_types=list(data.transaction_types),
        default_connection_id=connection.id,
        **{name: getattr(data, name) for name in _COPIED_FIELDS},
    )
    # The relationship is read by the audit snapshot before the row is flushed.
    flow.default_connection = connection
    add_audited(
        actor,
        flow,
        "flow.create",
        _flow_name_taken(data.name),
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
    for name in _COPIED_FIELDS:
        if name in sent:
            setattr(flow, name, getattr(data, name))
    if "transaction_types" in sent:
        flow.transaction_types = list(data.transaction_types)
    if connection is not None:
        flow.default_connection_id = connection.id
    unique_or_conflict(_flow_name_taken(data.name))
    db.session.expire(flow, ["default_connection"])
    changes = audit.diff(before, _flow_values(flow))
    if not changes:
        return flow
    audit.record(actor, "flow.update", flow, changes=changes)
    db.session.commit()
    return flow


def delete_flow(actor: Actor, flow: Flow) -> None:
    """Delete a flow; its default connection stays."""
    changes = {"integration": flow.integration_id}
    gone = "That flow was deleted meanwhile."
    delete_audited(actor, flow, "flow.delete", gone, changes=changes)
    db.session.commit()


@dataclass(frozen=True)
class MetaRouting:
    """What a meta-connector's flow holds: seed 002's routing or multi-method block."""

    kind: MetaKind
    default_connection: Connection | None = None
    re_route_recurring: bool = False
    default_action_disable: bool = False
    retries: int = 0
    expiry_hours: int = 0

    def as_values(self) -> dict[str, Any]:
        """Return the block as the audit trail records it."""
        return {
            "kind": self.kind.value,
            "default_connection": _public_id(self.default_connection),
            "re_route_recurring": self.re_route_recurring,
            "default_action_disable": self.default_action_disable,
            "retries": self.retries,
            "expiry_hours": self.expiry_hours,
        }


def meta_routing(flow: Flow | None) -> MetaRouting | None:
    """Return the routing a meta-connector's flow holds, or None for an ordinary connection."""
    if flow is None or flow.meta_kind is None:
        return None
    return MetaRouting(
        kind=MetaKind(flow.meta_kind),
        default_connection=flow.default_connection,
        re_route_recurring=flow.re_route_recurring,
        default_action_disable=flow.default_action_disable,
        retries=flow.retries,
        expiry_hours=flow.expiry_hours,
    )


def stage_meta_routing(connection: Connection, routing: MetaRouting | None) -> None:
    """Make the connection's meta flow hold the routing (None removes it); the caller commits.

    The flow is named after the connection's public id, which is unique and never changes.
    """
    flow = db.session.scalar(select(Flow).where(Flow.meta_connection_id == connection.id))
    if routing is None:
        if flow is not None:
            db.session.delete(flow)
        return
    if flow is None:
        flow = Flow(
            integration_id=connection.integration_id,
            name=connection.public_id,
            transaction_types=[],
            meta_connection_id=connection.id,
        )
        db.session.add(flow)
    flow.meta_kind = routing.kind.value
    flow.default_connection_id = (
        routing.default_connection.id if routing.default_connection else None
    )
    # Read back by the audit snapshot before anything is reloaded.
    flow.default_connection = routing.default_connection
    flow.re_route_recurring = routing.re_route_recurring
    flow.default_action_disable = routing.default_action_disable
    flow.retries = routing.retries
    flow.expiry_hours = routing.expiry_hours
    unique_or_conflict(_flow_name_taken(flow.name))
