"""Connect views of connections: add, edit, enable or disable, and delete."""

from __future__ import annotations

from flask import flash, render_template, request

from portal.access import writer_required
from portal.connect import bp, forms
from portal.connect.helpers import CONNECTION, INTEGRATION, dialog, integration_url, scope
from portal.htmx import hx_redirect, is_htmx, render_page_or_partial
from portal.models import Connection, Integration
from portal.schemas.connect import POSTBACK_FORMATS, TRANSACTION_TYPES
from portal.services import connections
from portal.services.errors import DomainError
from portal.viewutils import current_actor


def _connection_form(customer, integration, connection, values, errors, status=200):
    """Render the connection dialog with the values typed and the errors found."""
    return dialog(
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
    customer, integration = scope(customer_id, integration_id)
    return _connection_form(customer, integration, None, forms.connection_values(None), {})


@bp.post(INTEGRATION + "/connections")
@writer_required
def create_connection(customer_id: str, integration_id: int):
    """Add a connection to the integration."""
    customer, integration = scope(customer_id, integration_id)
    submission = forms.connection_submission(request.form)
    if submission.model is not None:
        try:
            connections.create_connection(current_actor(), integration, submission.model)
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
        else:
            flash("Connection created.", "success")
            return hx_redirect(integration_url(integration))
    return _connection_form(customer, integration, None, submission.values, submission.errors, 422)


def _connection_scope(customer_id, integration_id, connection_id):
    """Load the customer, integration and connection of the URL; 404 when they do not match."""
    customer, integration = scope(customer_id, integration_id)
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
            return hx_redirect(integration_url(integration))
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
    return hx_redirect(integration_url(integration))


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
        cancel_url=integration_url(integration),
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
        return hx_redirect(integration_url(integration))
    flash(f"Connection “{name}” deleted.", "success")
    return hx_redirect(integration_url(integration))
