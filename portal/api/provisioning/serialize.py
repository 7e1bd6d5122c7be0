"""The provisioning API's answers, built with the response models of the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Row

from portal.core.crypto import SecretBox
from portal.models import Customer, MetaKind
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


def merchant_out(customer: Customer) -> MerchantOut:
    """Return a customer as the API's merchant."""
    details = {name: getattr(customer, name) for name in MERCHANT_DETAILS}
    return MerchantOut(
        guid=customer.public_id, name=customer.name, created_at=customer.created_at, **details
    )


def connector_out(
    record: Row, box: SecretBox, shown_shared_secret: str | None = None
) -> ConnectorOut:
    """Return a connector as answers show it: secrets masked, a new shared secret whole.

    `record` is a row of the provisioning service's connector read (the connection's columns,
    its merchant and network, and its meta-connector routing).
    """
    secrets = masked_secrets(record, box)
    kind = record.meta_kind
    return ConnectorOut(
        guid=record.public_id,
        name=record.name,
        adapter=record.adapter,
        method=record.method,
        api_key=secrets.api_key,
        public_integration_key=record.public_integration_key,
        shared_secret=shown_shared_secret or secrets.shared_secret,
        # The portal deletes connections (in Connect) rather than archiving them.
        archived=False,
        business_country=record.business_country,
        config=ConnectorConfigOut(
            username=record.username,
            password=secrets.password,
            api_secret=secrets.api_secret,
            extra_data=record.extra_data or {},
            language=record.language,
            test_mode=record.test_mode,
            vault=record.vault or {},
        ),
        created_at=record.created_at,
        customer_profile_container=record.customer_profile_container,
        default_risk_rule_set=record.default_risk_rule_set,
        description=record.description,
        disabled=not record.enabled,
        disabled_transaction_types=record.disabled_transaction_types or [],
        merchant_guid=record.merchant_guid,
        network=record.network,
        is_meta_connector=kind is not None or record.adapter == META_CONNECTOR,
        postback_format=record.postback_format,
        provider=record.provider,
        schedule_api_available=record.scheduler_enabled,
        virtual_terminal_available=record.virtual_terminal_enabled,
        vt_risk_rule_set=record.vt_risk_rule_set,
        settings=record.settings or {},
        alias=record.alias,
        terminals=[
            TerminalOut(
                terminal_id=terminal["terminal_id"], disabled=terminal.get("disabled", False)
            )
            for terminal in record.terminals or []
        ],
        routing_meta_connector=RoutingMetaConnectorOut(
            default_connector=record.meta_default_connector,
            re_route_recurring=record.meta_re_route_recurring,
        )
        if kind == MetaKind.ROUTING
        else None,
        multi_method_meta_connector=MultiMethodMetaConnectorOut(
            default_action_disable_connector=record.meta_default_action_disable,
            retries=record.meta_retries,
            expiry=record.meta_expiry_hours,
        )
        if kind == MetaKind.MULTI_METHOD
        else None,
    )


def settings_out(properties: tuple[Property, ...]) -> list[SettingOut]:
    """Return an adapter's properties as getConnectorSettings lists them."""
    return [SettingOut.model_validate(prop.as_json()) for prop in properties]


def as_json(model: BaseModel) -> str:
    """Write an answer: camelCase, and optional parts that were not set left out."""
    return model.model_dump_json(exclude_unset=True)
