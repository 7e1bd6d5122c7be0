"""Connect views of flows: add, edit and delete an integration's routing rules."""

from __future__ import annotations

from flask import request

from portal.connect import bp, forms
from portal.connect.helpers import FLOW, INTEGRATION, integration_url, scope
from portal.schemas.connect import TRANSACTION_TYPES
from portal.services import flows
from portal.web.access import writer_required
from portal.web.actor import current_actor
from portal.web.forms import shown
from portal.web.responses import confirm, dialog, done, submit


def flow_dialog(customer, integration, flow, form, status: int = 200):
    """Render the flow dialog with the values typed and the errors found."""
    return dialog(
        "connect/_flow_form.html",
        status,
        customer=customer,
        integration=integration,
        flow=flow,
        form=form,
        transaction_types=TRANSACTION_TYPES,
        connection_choices=[
            (c.public_id, c.name + ("" if c.enabled else " (disabled)"))
            for c in integration.connections
        ],
    )


@bp.get(INTEGRATION + "/flows/new")
@writer_required
def new_flow(customer_id: str, integration_id: int):
    """Show the Add Flow form."""
    customer, integration = scope(customer_id, integration_id)
    return flow_dialog(customer, integration, None, shown(forms.flow_values(None)))


@bp.post(INTEGRATION + "/flows")
@writer_required
def create_flow(customer_id: str, integration_id: int):
    """Add a flow routing to one of the integration's connections."""
    customer, integration = scope(customer_id, integration_id)
    return submit(
        forms.flow_form(request.form),
        lambda data: flows.create_flow(current_actor(), integration, data),
        lambda _: done("Flow created.", integration_url(integration)),
        lambda form, status: flow_dialog(customer, integration, None, form, status),
    )


def _flow_scope(customer_id: str, integration_id: int, flow_id: int):
    """Load the customer, integration and flow of the URL; 404 when they do not match."""
    customer, integration = scope(customer_id, integration_id)
    return customer, integration, flows.get_flow(integration, flow_id)


@bp.get(FLOW + "/edit")
@writer_required
def edit_flow(customer_id: str, integration_id: int, flow_id: int):
    """Show a flow's edit form."""
    customer, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    return flow_dialog(customer, integration, flow, shown(forms.flow_values(flow)))


@bp.post(FLOW)
@writer_required
def update_flow(customer_id: str, integration_id: int, flow_id: int):
    """Save a flow's changes."""
    customer, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    return submit(
        forms.flow_form(request.form, flow),
        lambda data: flows.update_flow(current_actor(), flow, data),
        lambda _: done("Flow updated.", integration_url(integration)),
        lambda form, status: flow_dialog(
            customer, integration, flows.get_flow(integration, flow_id), form, status
        ),
    )


@bp.get(FLOW + "/delete")
@writer_required
def confirm_delete_flow(customer_id: str, integration_id: int, flow_id: int):
    """Ask before deleting a flow."""
    _, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    return confirm(
        f"Delete flow “{flow.name}”?",
        "Its default connection stays. This cannot be undone.",
        "Delete Flow",
        integration_url(integration),
    )


@bp.post(FLOW + "/delete")
@writer_required
def delete_flow(customer_id: str, integration_id: int, flow_id: int):
    """Delete a flow."""
    _, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    name = flow.name
    flows.delete_flow(current_actor(), flow)
    return done(f"Flow “{name}” deleted.", integration_url(integration))
