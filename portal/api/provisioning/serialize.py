"""The provisioning API's answers, built with the response models of the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel

from portal.core.crypto import SecretBox
from portal.models import Connection, Customer, MetaKind
from portal.schemas.adapters import META_CONNECTOR, Property
from portal.schemas.provisioning import (
    ConnectorConfigOut,
    ConnectorOut,
    MerchantOut,
    MultiMethodMetaConnectorOut,
    RoutingMetaConnectorOut,
    SettingOut,
    TerminalOut,
)
from portal.services.connections import masked_secrets
from portal.services.customers import MERCHANT_DETAILS
from portal.services.flows import meta_routing


def merchant_out(customer: Customer) -> MerchantOut:
    """Return a customer as the API's merchant."""
    details = {name: getattr(customer, name) for name in MERCHANT_DETAILS}
    return MerchantOut(
        guid=customer.public_id, name=customer.name, created_at=customer.created_at, **details
    )


def connector_out(
    connection: Connection, box: SecretBox, shown_shared_secret: str | None = None
) -> ConnectorOut:
    """Return a connection as the API's connector: secrets masked, a new shared secret whole."""
    secrets = masked_secrets(connection, box)
    routing = meta_routing(connection.meta_flow)
    return ConnectorOut(
        guid=connection.public_id,
        name=connection.name,
        adapter=connection.adapter,
        method=connection.method,
        api_key=secrets.api_key,
        public_integration_key=connection.public_integration_key,
        shared_secret=shown_shared_secret or secrets.shared_secret,
        # The portal deletes connections (in Connect) rather than archiving them.
        archived=False,
        business_country=connection.business_country,
        config=ConnectorConfigOut(
            username=connection.username,
            password=secrets.password,
            api_secret=secrets.api_secret,
            extra_data=connection.extra_data or {},
            language=connection.language,
            test_mode=connection.test_mode,
            vault=connection.vault or {},
        ),
        created_at=connection.created_at,
        customer_profile_container=connection.customer_profile_container,
        default_risk_rule_set=connection.default_risk_rule_set,
        description=connection.description,
        disabled=not connection.enabled,
        disabled_transaction_types=connection.disabled_transaction_types or [],
        merchant_guid=connection.integration.customer.public_id,
        network=connection.integration.network,
        is_meta_connector=routing is not None or connection.adapter == META_CONNECTOR,
        postback_format=connection.postback_format,
        provider=connection.provider,
        schedule_api_available=connection.scheduler_enabled,
        virtual_terminal_available=connection.virtual_terminal_enabled,
        vt_risk_rule_set=connection.vt_risk_rule_set,
        settings=connection.settings or {},
        alias=connection.alias,
        terminals=[
            TerminalOut(
                terminal_id=terminal["terminal_id"], disabled=terminal.get("disabled", False)
            )
            for terminal in connection.terminals or []
        ],
        routing_meta_connector=RoutingMetaConnectorOut(
            default_connector=routing.default_connection.public_id
            if routing.default_connection
            else None,
            re_route_recurring=routing.re_route_recurring,
        )
        if routing is not None and routing.kind is MetaKind.ROUTING
        else None,
        multi_method_meta_connector=MultiMethodMetaConnectorOut(
            default_action_disable_connector=routing.default_action_disable,
            retries=routing.retries,
            expiry=routing.expiry_hours,
        )
        if routing is not None and routing.kind is MetaKind.MULTI_METHOD
        else None,
    )


def settings_out(properties: tuple[Property, ...]) -> list[SettingOut]:
    """Return an adapter's properties as getConnectorSettings lists them."""
    return [SettingOut.model_validate(prop.as_json()) for prop in properties]


def as_json(model: BaseModel) -> str:
    """Write an answer: camelCase, and optional parts that were not set left out."""
    return model.model_dump_json(exclude_unset=True)
