"""Connect views of integrations: add, show, edit (name, network, Type) and delete."""

from __future__ import annotations

from flask import flash, render_template, request, url_for

from portal.access import writer_required
from portal.connect import bp, forms
from portal.connect.helpers import CUSTOMER, INTEGRATION, dialog, integration_url, scope
from portal.htmx import hx_redirect, render_confirm
from portal.models import IntegrationType
from portal.services import connections, customers, integrations
from portal.services.errors import DomainError
from portal.viewutils import current_actor


@bp.get(CUSTOMER + "/integrations/new")
@writer_required
def new_integration(customer_id: str):
    """Show the Add Integration form (Type is Design until the integration is configured)."""
    customer = customers.get_customer(customer_id)
    return dialog(
        "connect/_integration_form.html",
        customer=customer,
        integration=None,
        values={"type": IntegrationType.DESIGN.value},
        errors={},
        type_editable=False,
    )


@bp.post(CUSTOMER + "/integrations")
@writer_required
def create_integration(customer_id: str):
    """Add an integration and land on the Customer Integration page."""
    customer = customers.get_customer(customer_id)
    submission = forms.integration_submission(request.form)
    if submission.model is not None:
        try:
            integration = integrations.create_integration(
                current_actor(), customer, submission.model
            )
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
        else:
            flash("Integration created.", "success")
            return hx_redirect(integration_url(integration))
    submission.values["type"] = IntegrationType.DESIGN.value
    return dialog(
        "connect/_integration_form.html",
        status=422,
        customer=customer,
        integration=None,
        values=submission.values,
        errors=submission.errors,
        type_editable=False,
    )


@bp.get(INTEGRATION)
def integration(customer_id: str, integration_id: int):
    """Show the Customer Integration page: its connections and flows."""
    customer, integration = scope(customer_id, integration_id)
    return render_template(
        "connect/integration.html",
        customer=customer,
        current=integration,
        integration=integration,
        secrets={c.id: connections.masked_secrets(c) for c in integration.connections},
    )


def _integration_form(customer, integration, values, errors, status=200):
    """Render the integration dialog; Type is editable once the integration can go live."""
    type_editable = integration.type == IntegrationType.LIVE or integrations.can_go_live(
        integration
    )
    return dialog(
        "connect/_integration_form.html",
        status=status,
        customer=customer,
        integration=integration,
        values=values,
        errors=errors,
        type_editable=type_editable,
    )


@bp.get(INTEGRATION + "/edit")
@writer_required
def edit_integration(customer_id: str, integration_id: int):
    """Show the integration's edit form."""
    customer, integration = scope(customer_id, integration_id)
    return _integration_form(customer, integration, forms.integration_values(integration), {})


@bp.post(INTEGRATION)
@writer_required
def update_integration(customer_id: str, integration_id: int):
    """Rename the integration or change its Type."""
    customer, integration = scope(customer_id, integration_id)
    submission = forms.integration_submission(request.form, integration)
    if submission.model is not None:
        try:
            # A disabled Type select posts nothing: the Type stays as it is.
            integrations.update_integration(
                current_actor(), integration, submission.model, request.form.get("type")
            )
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
        else:
            flash("Integration updated.", "success")
            return hx_redirect(integration_url(integration))
    integration = integrations.get_integration(customer, integration_id)
    submission.values["type"] = submission.values.get("type") or integration.type
    return _integration_form(customer, integration, submission.values, submission.errors, 422)


@bp.get(INTEGRATION + "/delete")
@writer_required
def confirm_delete_integration(customer_id: str, integration_id: int):
    """Ask before deleting, naming the connections and flows that go with the integration."""
    _, integration = scope(customer_id, integration_id)
    summary = integrations.deletion_summary(integration)
    return render_confirm(
        title=f"Delete integration “{integration.name}”?",
        message=(
            "Deleting this integration also deletes all its flows and connections: "
            f"{summary.sentence}. This cannot be undone."
        ),
        action=url_for(
            "connect.delete_integration",
            customer_id=customer_id,
            integration_id=integration.id,
        ),
        confirm_label="Delete Integration",
        cancel_url=integration_url(integration),
    )


@bp.post(INTEGRATION + "/delete")
@writer_required
def delete_integration(customer_id: str, integration_id: int):
    """Delete the integration with its connections and flows."""
    customer, integration = scope(customer_id, integration_id)
    name = integration.name
    summary = integrations.delete_integration(current_actor(), integration)
    flash(f"Integration deleted: “{name}” with {summary.counts}.", "success")
    return hx_redirect(url_for("connect.customer", customer_id=customer.public_id))
