"""Connect views of connections: add, edit, enable or disable, and delete."""

from __future__ import annotations

from flask import flash, request

from portal.connect import bp, forms
from portal.connect.helpers import CONNECTION, INTEGRATION, integration_url, scope
from portal.models import Integration
from portal.schemas.adapters import ADAPTER_IDS
from portal.schemas.connect import POSTBACK_FORMATS, TRANSACTION_TYPES
from portal.services import connections
from portal.web.access import writer_required
from portal.web.actor import current_actor
from portal.web.forms import shown
from portal.web.registry import secret_box
from portal.web.responses import attempt, dialog, done, row_or_redirect, submit


def connection_dialog(customer, integration, connection, form, status: int = 200):
    """Render the connection dialog with the values typed and the errors found."""
    return dialog(
        "connect/_connection_form.html",
        status,
        customer=customer,
        integration=integration,
        connection=connection,
        secrets=connections.masked_secrets(connection, secret_box()) if connection else None,
        form=form,
        transaction_types=TRANSACTION_TYPES,
        postback_formats=[(value, value) for value in POSTBACK_FORMATS],
        adapters=[(value, value) for value in ADAPTER_IDS],
    )


def _connection_scope(customer_id: str, integration_id: int, connection_id: str):
    """Load the customer, integration and connection of the URL; 404 when they do not match."""
    customer, integration = scope(customer_id, integration_id)
    return customer, integration, connections.get_connection(integration, connection_id)


@bp.get(INTEGRATION + "/connections/new")
@writer_required
def new_connection(customer_id: str, integration_id: int):
    """Show the Add Connection form."""
    customer, integration = scope(customer_id, integration_id)
    return connection_dialog(customer, integration, None, shown(forms.connection_values(None)))


@bp.post(INTEGRATION + "/connections")
@writer_required
def create_connection(customer_id: str, integration_id: int):
    """Add a connection to the integration."""
    customer, integration = scope(customer_id, integration_id)
    return submit(
        forms.connection_form(request.form),
        lambda data: connections.create_connection(
            current_actor(), integration, data, secret_box()
        ),
        lambda _: done("Connection created.", integration_url(integration)),
        lambda form, status: connection_dialog(customer, integration, None, form, status),
    )


@bp.get(CONNECTION + "/edit")
@writer_required
def edit_connection(customer_id: str, integration_id: int, connection_id: str):
    """Show a connection's edit form (secrets masked; empty keeps them)."""
    customer, integration, connection = _connection_scope(
        customer_id, integration_id, connection_id
    )
    values = forms.connection_values(connection)
    return connection_dialog(customer, integration, connection, shown(values))


@bp.post(CONNECTION)
@writer_required
def update_connection(customer_id: str, integration_id: int, connection_id: str):
    """Save a connection's changes."""
    customer, integration, connection = _connection_scope(
        customer_id, integration_id, connection_id
    )
    return submit(
        forms.connection_form(request.form, connection),
        lambda data: connections.update_connection(current_actor(), connection, data, secret_box()),
        lambda _: done("Connection updated.", integration_url(integration)),
        lambda form, status: connection_dialog(
            customer,
            integration,
            connections.get_connection(integration, connection_id),
            form,
            status,
        ),
    )


def switch(customer_id: str, integration_id: int, connection_id: str, enabled: bool):
    """Enable or disable a connection; answer with its row, or the integration page."""
    _, integration, connection = _connection_scope(customer_id, integration_id, connection_id)
    connections.set_connection_enabled(current_actor(), connection, enabled)
    flash(f"Connection “{connection.name}” {'enabled' if enabled else 'disabled'}.", "success")
    return connection_row(integration, connection)


def connection_row(integration: Integration, connection):
    """Answer a row action: the row for htmx, the integration page otherwise."""
    return row_or_redirect(
        "connect/_connection_row.html",
        integration_url(integration),
        customer=integration.customer,
        integration=integration,
        connection=connection,
        secrets={connection.id: connections.masked_secrets(connection, secret_box())},
        blockers={connection.id: connections.deletion_blocker(connection)},
    )


@bp.post(CONNECTION + "/enable")
@writer_required
def enable_connection(customer_id: str, integration_id: int, connection_id: str):
    """Enable a connection."""
    return switch(customer_id, integration_id, connection_id, True)


@bp.post(CONNECTION + "/disable")
@writer_required
def disable_connection(customer_id: str, integration_id: int, connection_id: str):
    """Disable a connection; its credentials are kept."""
    return switch(customer_id, integration_id, connection_id, False)


@bp.get(CONNECTION + "/delete")
@writer_required
def confirm_delete_connection(customer_id: str, integration_id: int, connection_id: str):
    """Ask before deleting a connection, or explain which flows still use it."""
    customer, integration, connection = _connection_scope(
        customer_id, integration_id, connection_id
    )
    return dialog(
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
    return attempt(
        lambda: connections.delete_connection(current_actor(), connection),
        f"Connection “{connection.name}” deleted.",
        integration_url(integration),
    )
