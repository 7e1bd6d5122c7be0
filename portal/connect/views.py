"""Connect: customers, their integrations, and each integration's connections and flows."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request, url_for

from portal.access import writer_required
from portal.connect import forms
from portal.htmx import hx_redirect, is_htmx, render_confirm, render_page_or_partial
from portal.models import Connection, Customer, Integration, IntegrationType
from portal.schemas.connect import POSTBACK_FORMATS, TRANSACTION_TYPES
from portal.services import companies, connections, customers, flows, integrations
from portal.services.errors import DomainError, NotFound
from portal.viewutils import current_actor

bp = Blueprint("connect", __name__, url_prefix="/connect")

CUSTOMER = "/customers/<customer_id>"
INTEGRATION = CUSTOMER + "/integrations/<int:integration_id>"
CONNECTION = INTEGRATION + "/connections/<connection_id>"
FLOW = INTEGRATION + "/flows/<int:flow_id>"


def _cursor(name: str) -> int | None:
    """Read a pagination cursor from the query string (ignore anything but a number)."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


def _dialog(partial: str, status: int = 200, **context: Any):
    """Render a dialog fragment for htmx, or the same dialog open on a page without JS."""
    return render_page_or_partial(
        "connect/dialog_page.html", partial, status=status, partial=partial, **context
    )


def _error_status(error: DomainError) -> int:
    """Forged ids from another scope are 404; every other refused input is 422."""
    return 404 if isinstance(error, NotFound) else 422


def _scope(customer_id: str, integration_id: int) -> tuple[Customer, Integration]:
    """Return the customer and its integration, or 404 when they do not belong together."""
    customer = customers.get_customer(customer_id)
    return customer, integrations.get_integration(customer, integration_id)


def _integration_url(integration: Integration) -> str:
    return url_for(
        "connect.integration",
        customer_id=integration.customer.public_id,
        integration_id=integration.id,
    )


# ------------------------------------------------------------------------------- customers


@bp.get("/")
def index():
    """List customers, searched by name or id as the user types, a page at a time."""
    search = request.args.get("q", "")
    page = customers.list_customers(search, after=_cursor("after"), before=_cursor("before"))
    return render_page_or_partial(
        "connect/index.html", "connect/_customers.html", page=page, search=search
    )


@bp.get("/customers/new")
@writer_required
def new_customer():
    """Show the Add customer form."""
    company = customers.default_company()
    values = {"name": "", "company_id": str(company.id) if company else ""}
    return _dialog(
        "connect/_customer_form.html",
        values=values,
        errors={},
        companies=companies.list_companies(),
    )


@bp.post("/customers")
@writer_required
def create_customer():
    """Add a customer and open its page."""
    submission = forms.customer_submission(request.form)
    status = 422
    if submission.model is not None:
        try:
            customer = customers.create_customer(
                current_actor(), submission.model, forms.company_id_of(submission.values)
            )
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
        else:
            flash("Customer created.", "success")
            return hx_redirect(url_for("connect.customer", customer_id=customer.public_id))
    return _dialog(
        "connect/_customer_form.html",
        status=status,
        values=submission.values,
        errors=submission.errors,
        companies=companies.list_companies(),
    )


@bp.get(CUSTOMER)
def customer(customer_id: str):
    """Show a customer's landing page: its integrations in the main area and the side panel."""
    customer = customers.get_customer(customer_id)
    return render_template("connect/customer.html", customer=customer, current=None)


# ---------------------------------------------------------------------------- integrations


@bp.get(CUSTOMER + "/integrations/new")
@writer_required
def new_integration(customer_id: str):
    """Show the Add Integration form (Type is Design until the integration is configured)."""
    customer = customers.get_customer(customer_id)
    return _dialog(
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
            return hx_redirect(_integration_url(integration))
    submission.values["type"] = IntegrationType.DESIGN.value
    return _dialog(
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
    customer, integration = _scope(customer_id, integration_id)
    return render_template(
        "connect/integration.html",
        customer=customer,
        current=integration,
        integration=integration,
        secrets={c.id: connections.masked_secrets(c) for c in integration.connections},
    )


def _integration_form(customer, integration, values, errors, status=200):
    type_editable = integration.type == IntegrationType.LIVE or integrations.can_go_live(
        integration
    )
    return _dialog(
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
    customer, integration = _scope(customer_id, integration_id)
    return _integration_form(customer, integration, forms.integration_values(integration), {})


@bp.post(INTEGRATION)
@writer_required
def update_integration(customer_id: str, integration_id: int):
    """Rename the integration or change its Type."""
    customer, integration = _scope(customer_id, integration_id)
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
            return hx_redirect(_integration_url(integration))
    integration = integrations.get_integration(customer, integration_id)
    submission.values["type"] = submission.values.get("type") or integration.type
    return _integration_form(customer, integration, submission.values, submission.errors, 422)


@bp.get(INTEGRATION + "/delete")
@writer_required
def confirm_delete_integration(customer_id: str, integration_id: int):
    """Ask before deleting, naming the connections and flows that go with the integration."""
    _, integration = _scope(customer_id, integration_id)
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
        cancel_url=_integration_url(integration),
    )


@bp.post(INTEGRATION + "/delete")
@writer_required
def delete_integration(customer_id: str, integration_id: int):
    """Delete the integration with its connections and flows."""
    customer, integration = _scope(customer_id, integration_id)
    name = integration.name
    summary = integrations.delete_integration(current_actor(), integration)
    flash(f"Integration deleted: “{name}” with {summary.counts}.", "success")
    return hx_redirect(url_for("connect.customer", customer_id=customer.public_id))


# ----------------------------------------------------------------------------- connections


def _connection_form(customer, integration, connection, values, errors, status=200):
    return _dialog(
        "connect/_connection_form.html",
        status=status,
        customer=customer,
        integration=integration,
        connection=connection,
        secrets=connections.masked_secrets(connection) if connection else None,
        values=values,
        errors=errors,
        transaction_types=TRANSACTION_TYPES,
        postback_formats=POSTBACK_FORMATS,
    )


@bp.get(INTEGRATION + "/connections/new")
@writer_required
def new_connection(customer_id: str, integration_id: int):
    """Show the Add Connection form."""
    customer, integration = _scope(customer_id, integration_id)
    return _connection_form(customer, integration, None, forms.connection_values(None), {})


@bp.post(INTEGRATION + "/connections")
@writer_required
def create_connection(customer_id: str, integration_id: int):
    """Add a connection to the integration."""
    customer, integration = _scope(customer_id, integration_id)
    submission = forms.connection_submission(request.form)
    if submission.model is not None:
        try:
            connections.create_connection(current_actor(), integration, submission.model)
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
        else:
            flash("Connection created.", "success")
            return hx_redirect(_integration_url(integration))
    return _connection_form(customer, integration, None, submission.values, submission.errors, 422)


def _connection_scope(customer_id, integration_id, connection_id):
    customer, integration = _scope(customer_id, integration_id)
    return customer, integration, connections.get_connection(integration, connection_id)


@bp.get(CONNECTION + "/edit")
@writer_required
def edit_connection(customer_id: str, integration_id: int, connection_id: str):
    """Show a connection's edit form (secrets masked; empty keeps them)."""
    customer, integration, connection = _connection_scope(
        customer_id, integration_id, connection_id
    )
    return _connection_form(
        customer, integration, connection, forms.connection_values(connection), {}
    )


@bp.post(CONNECTION)
@writer_required
def update_connection(customer_id: str, integration_id: int, connection_id: str):
    """Save a connection's changes."""
    customer, integration, connection = _connection_scope(
        customer_id, integration_id, connection_id
    )
    submission = forms.connection_submission(request.form, connection)
    if submission.model is not None:
        try:
            connections.update_connection(current_actor(), connection, submission.model)
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
        else:
            flash("Connection updated.", "success")
            return hx_redirect(_integration_url(integration))
    connection = connections.get_connection(integration, connection_id)
    return _connection_form(
        customer, integration, connection, submission.values, submission.errors, 422
    )


def _connection_row(integration: Integration, connection: Connection):
    """Answer a row action: the row for htmx, the integration page otherwise."""
    if is_htmx():
        return render_template(
            "connect/_connection_row.html",
            customer=integration.customer,
            integration=integration,
            connection=connection,
            secrets={connection.id: connections.masked_secrets(connection)},
        )
    return hx_redirect(_integration_url(integration))


@bp.post(CONNECTION + "/enable")
@writer_required
def enable_connection(customer_id: str, integration_id: int, connection_id: str):
    """Enable a connection."""
    _, integration, connection = _connection_scope(customer_id, integration_id, connection_id)
    connections.set_connection_enabled(current_actor(), connection, True)
    flash(f"Connection “{connection.name}” enabled.", "success")
    return _connection_row(integration, connection)


@bp.post(CONNECTION + "/disable")
@writer_required
def disable_connection(customer_id: str, integration_id: int, connection_id: str):
    """Disable a connection; its credentials are kept."""
    _, integration, connection = _connection_scope(customer_id, integration_id, connection_id)
    connections.set_connection_enabled(current_actor(), connection, False)
    flash(f"Connection “{connection.name}” disabled.", "success")
    return _connection_row(integration, connection)


@bp.get(CONNECTION + "/delete")
@writer_required
def confirm_delete_connection(customer_id: str, integration_id: int, connection_id: str):
    """Ask before deleting a connection, or explain which flows still use it."""
    customer, integration, connection = _connection_scope(
        customer_id, integration_id, connection_id
    )
    return render_page_or_partial(
        "connect/confirm_delete_connection.html",
        "connect/_confirm_delete_connection.html",
        customer=customer,
        integration=integration,
        connection=connection,
        flows=connections.flows_using(connection),
        cancel_url=_integration_url(integration),
    )


@bp.post(CONNECTION + "/delete")
@writer_required
def delete_connection(customer_id: str, integration_id: int, connection_id: str):
    """Delete a connection no flow uses."""
    _, integration, connection = _connection_scope(customer_id, integration_id, connection_id)
    name = connection.name
    try:
        connections.delete_connection(current_actor(), connection)
    except DomainError as error:
        flash(error.message, "error")
        return hx_redirect(_integration_url(integration))
    flash(f"Connection “{name}” deleted.", "success")
    return hx_redirect(_integration_url(integration))


# ----------------------------------------------------------------------------------- flows


def _flow_form(customer, integration, flow, values, errors, status=200):
    return _dialog(
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
    customer, integration = _scope(customer_id, integration_id)
    return _flow_form(customer, integration, None, forms.flow_values(None), {})


@bp.post(INTEGRATION + "/flows")
@writer_required
def create_flow(customer_id: str, integration_id: int):
    """Add a flow routing to one of the integration's connections."""
    customer, integration = _scope(customer_id, integration_id)
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
            return hx_redirect(_integration_url(integration))
    return _flow_form(customer, integration, None, submission.values, submission.errors, status)


def _flow_scope(customer_id, integration_id, flow_id):
    customer, integration = _scope(customer_id, integration_id)
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
            return hx_redirect(_integration_url(integration))
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
        cancel_url=_integration_url(integration),
    )


@bp.post(FLOW + "/delete")
@writer_required
def delete_flow(customer_id: str, integration_id: int, flow_id: int):
    """Delete a flow."""
    _, integration, flow = _flow_scope(customer_id, integration_id, flow_id)
    name = flow.name
    flows.delete_flow(current_actor(), flow)
    flash(f"Flow “{name}” deleted.", "success")
    return hx_redirect(_integration_url(integration))
