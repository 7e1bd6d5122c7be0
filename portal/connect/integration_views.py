"""Connect views of integrations: add, show, edit (name, network, Type) and delete."""

from __future__ import annotations

from flask import render_template, request, url_for

from portal.connect import bp, forms
from portal.connect.helpers import CUSTOMER, INTEGRATION, integration_url, scope
from portal.models import IntegrationType
from portal.services import connections, customers, integrations
from portal.web.access import writer_required
from portal.web.actor import current_actor
from portal.web.forms import shown
from portal.web.registry import secret_box
from portal.web.responses import confirm, dialog, done, submit


def integration_dialog(customer, integration, form, status: int = 200):
    """Render the integration dialog; Type is editable once the integration can go live."""
    type_editable = integration is not None and (
        integration.type == IntegrationType.LIVE or integrations.can_go_live(integration)
    )
    if not form.values.get("type"):
        form.values["type"] = integration.type if integration else IntegrationType.DESIGN.value
    return dialog(
        "connect/_integration_form.html",
        status,
        customer=customer,
        integration=integration,
        form=form,
        type_editable=type_editable,
    )


@bp.get(CUSTOMER + "/integrations/new")
@writer_required
def new_integration(customer_id: str):
    """Show the Add Integration form (Type is Design until the integration is configured)."""
    return integration_dialog(customers.get_customer(customer_id), None, shown())


@bp.post(CUSTOMER + "/integrations")
@writer_required
def create_integration(customer_id: str):
    """Add an integration and land on the Customer Integration page."""
    customer = customers.get_customer(customer_id)
    form = forms.integration_form(request.form)
    form.values["type"] = IntegrationType.DESIGN.value
    return submit(
        form,
        lambda data: integrations.create_integration(current_actor(), customer, data),
        lambda integration: done("Integration created.", integration_url(integration)),
        lambda form, status: integration_dialog(customer, None, form, status),
    )


@bp.get(INTEGRATION)
def integration(customer_id: str, integration_id: int):
    """Show the Customer Integration page: its connections and flows."""
    customer, integration = scope(customer_id, integration_id)
    box = secret_box()
    return render_template(
        "connect/integration.html",
        customer=customer,
        current=integration,
        integration=integration,
        secrets={c.id: connections.masked_secrets(c, box) for c in integration.connections},
        blockers={c.id: connections.deletion_blocker(c) for c in integration.connections},
    )


@bp.get(INTEGRATION + "/edit")
@writer_required
def edit_integration(customer_id: str, integration_id: int):
    """Show the integration's edit form."""
    customer, integration = scope(customer_id, integration_id)
    return integration_dialog(customer, integration, shown(forms.integration_values(integration)))


@bp.post(INTEGRATION)
@writer_required
def update_integration(customer_id: str, integration_id: int):
    """Rename the integration or change its Type."""
    customer, integration = scope(customer_id, integration_id)
    return submit(
        forms.integration_form(request.form, integration),
        # A disabled Type select posts nothing: the Type stays as it is.
        lambda data: integrations.update_integration(
            current_actor(), integration, data, request.form.get("type")
        ),
        lambda _: done("Integration updated.", integration_url(integration)),
        lambda form, status: integration_dialog(
            customer, integrations.get_integration(customer, integration_id), form, status
        ),
    )


@bp.get(INTEGRATION + "/delete")
@writer_required
def confirm_delete_integration(customer_id: str, integration_id: int):
    """Ask before deleting, naming the connections and flows that go with the integration."""
    _, integration = scope(customer_id, integration_id)
    summary = integrations.deletion_summary(integration)
    return confirm(
        f"Delete integration “{integration.name}”?",
        (
            "Deleting this integration also deletes all its flows and connections: "
            f"{summary.sentence}. This cannot be undone."
        ),
        "Delete Integration",
        integration_url(integration),
    )


@bp.post(INTEGRATION + "/delete")
@writer_required
def delete_integration(customer_id: str, integration_id: int):
    """Delete the integration with its connections and flows."""
    customer, integration = scope(customer_id, integration_id)
    name = integration.name
    summary = integrations.delete_integration(current_actor(), integration)
    return done(
        f"Integration deleted: “{name}” with {summary.counts}.",
        url_for("connect.customer", customer_id=customer.public_id),
    )
