"""Helpers the Connect views share: URL rules, URL-scoped lookups, dialogs and links."""

from __future__ import annotations

from typing import Any

from flask import url_for

from portal.htmx import render_page_or_partial
from portal.models import Customer, Integration
from portal.services import customers, integrations

CUSTOMER = "/customers/<customer_id>"
INTEGRATION = CUSTOMER + "/integrations/<int:integration_id>"
CONNECTION = INTEGRATION + "/connections/<connection_id>"
FLOW = INTEGRATION + "/flows/<int:flow_id>"


def dialog(partial: str, status: int = 200, **context: Any):
    """Render a dialog fragment for htmx, or the same dialog open on a page without JS."""
    return render_page_or_partial(
        "connect/dialog_page.html", partial, status=status, partial=partial, **context
    )


def scope(customer_id: str, integration_id: int) -> tuple[Customer, Integration]:
    """Return the customer and its integration, or 404 when they do not belong together."""
    customer = customers.get_customer(customer_id)
    return customer, integrations.get_integration(customer, integration_id)


def integration_url(integration: Integration) -> str:
    """Return the URL of the integration's Customer Integration page."""
    return url_for(
        "connect.integration",
        customer_id=integration.customer.public_id,
        integration_id=integration.id,
    )
