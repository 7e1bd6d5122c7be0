"""Connect views of flows: add, edit and delete an integration's routing rules."""

from __future__ import annotations

from flask import flash, request, url_for

from portal.access import writer_required
from portal.connect import bp, forms
from portal.connect.helpers import FLOW, INTEGRATION, dialog, integration_url, scope
from portal.htmx import hx_redirect, render_confirm
from portal.schemas.connect import TRANSACTION_TYPES
from portal.services import flows
from portal.services.errors import DomainError, NotFound
from portal.viewutils import current_actor


def _error_status(error: DomainError) -> int:
    """Forged ids from another scope are 404; every other refused input is 422."""
    return 404 if isinstance(error, NotFound) else 422


def _flow_form(customer, integration, flow, values, errors, status=200):
    """Render the flow dialog with the values typed and the errors found."""
    return dialog(
        "connect/_flow_form.html",
        status=status,
        customer=customer,
        integration=integration,
        flow=flow,
        values=values,
        errors=errors,
        transaction_types=TRANSACTION_TYPES,
    )


@bp.get(INTEGRATION + "/flows/new")
@writer_required
def new_flow(customer_id: str, integration_id: int):
    """Show the Add Flow form."""
    customer, integration = scope(customer_id, integration_id)
    return _flow_form(customer, integration, None, forms.flow_values(None), {})


@bp.post(INTEGRATION + "/flows")
@writer_required
def create_flow(customer_id: str, integration_id: int):
    """Add a flow routing to one of the integration's connections."""
    customer, integration = scope(customer_id, integration_id)
    submission = forms.flow_submission(request.form)
    status = 422
    if submission.model is not None:
        try:
            flows.create_flow(current_actor(), integration, submission.model)
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
            status = _error_status(error)
        else:
            flash("Flow created.", "success")
            return hx_redirect(integration_url(integration))
    return _flow_form(customer, integration, None, submission.values, submission.errors, status)


def _flow_scope(customer_id, integration_id, flow_id):
    """Load the customer, integration and flow of the URL; 404 when they do not match."""
    customer, integration = scope(customer_id, integration_id)
    return customer, integration, flows.get_flow(integration, flow_id)


@bp.get(FLOW + "/edit")
@writer_required
def edit_flow(customer_id: str, integration_id: int, flow_id: int):
    """Show a flow's edit form."""
    customer, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    return _flow_form(customer, integration, flow, forms.flow_values(flow), {})


@bp.post(FLOW)
@writer_required
def update_flow(customer_id: str, integration_id: int, flow_id: int):
    """Save a flow's changes."""
    customer, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    submission = forms.flow_submission(request.form, flow)
    status = 422
    if submission.model is not None:
        try:
            flows.update_flow(current_actor(), flow, submission.model)
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
            status = _error_status(error)
        else:
            flash("Flow updated.", "success")
            return hx_redirect(integration_url(integration))
    flow = flows.get_flow(integration, flow_id)
    return _flow_form(customer, integration, flow, submission.values, submission.errors, status)


@bp.get(FLOW + "/delete")
@writer_required
def confirm_delete_flow(customer_id: str, integration_id: int, flow_id: int):
    """Ask before deleting a flow."""
    _, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    return render_confirm(
        title=f"Delete flow “{flow.name}”?",
        message="Its default connection stays. This cannot be undone.",
        action=url_for(
            "connect.delete_flow",
            customer_id=customer_id,
            integration_id=integration.id,
            flow_id=flow.id,
        ),
        confirm_label="Delete Flow",
        cancel_url=integration_url(integration),
    )


@bp.post(FLOW + "/delete")
@writer_required
def delete_flow(customer_id: str, integration_id: int, flow_id: int):
    """Delete a flow."""
    _, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    name = flow.name
    flows.delete_flow(current_actor(), flow)
    flash(f"Flow “{name}” deleted.", "success")
    return hx_redirect(integration_url(integration))
