"""Helpers the Connect views share: URL rules, URL-scoped lookups and links."""

from __future__ import annotations

from flask import url_for

from portal.models import Customer, Integration
from portal.services import customers, integrations

CUSTOMER = "/customers/<customer_id>"
INTEGRATION = CUSTOMER + "/integrations/<int:integration_id>"
CONNECTION = INTEGRATION + "/connections/<connection_id>"
FLOW = INTEGRATION + "/flows/<int:flow_id>"


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
