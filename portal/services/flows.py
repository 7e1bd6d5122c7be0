"""Flows of an integration: routing rules whose default connection is in the same integration.

Every lookup is scoped by its integration, so an id from another integration is NotFound: data
never crosses integrations.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection, Flow, Integration
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
    query = select(Flow).where(Flow.id == flow_id, Flow.integration_id == integration.id)
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
    for name in ("name", "re_route_recurring", "retries", "expiry_hours"):
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
