"""The provisioning API's rules: merchants and connectors, scoped by the calling API key.

Merchants are customers and connectors are connections (with a flow for a meta-connector's
routing): the rows and the services of Connect, so a connector created here shows in the
Connect pages and one edited there reads back changed here.

A key sees the customers of its own company only; a Sandbox key sees, creates and updates only
test-mode connectors. Anything outside the scope is NotFound, exactly like a guid that does not
exist. Each write is one transaction with one audit event whose actor names the key's public id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import aliased

from portal.core.crypto import SecretBox
from portal.core.names import name_key
from portal.core.public_ids import CONNECTION_PREFIX, is_public_id
from portal.extensions import db
from portal.models import (
    Connection,
    Customer,
    Environment,
    Flow,
    Integration,
    IntegrationType,
    MetaKind,
)
from portal.schemas.adapters import ADAPTERS, META_CONNECTOR, Adapter, check_properties
from portal.schemas.adapters import check_extra_data as adapter_extra_data_problems
from portal.schemas.provisioning import (
    ConnectorInput,
    ConnectorUpdate,
    MerchantInput,
    NewConnectorInput,
)
from portal.services import audit, connections, customers
from portal.services.actor import Actor
from portal.services.errors import DomainError, NotFound, RulesBroken, Violation
from portal.services.flows import MetaRouting, meta_routing, stage_meta_routing
from portal.services.persistence import lock_row, unique_or_conflict

CONNECTOR_NOT_FOUND = "connectorGuid: no such connector"
MERCHANT_NOT_FOUND = "merchantGuid: no such merchant"


@dataclass(frozen=True)
class KeyScope:
    """What the calling API key may see: its company and environment, and its public id."""

    api_key_id: int
    prefix: str
    company_id: int
    environment: str

    @property
    def sandbox(self) -> bool:
        """Tell whether the key is a Sandbox key (test-mode connectors only)."""
        return self.environment == Environment.SANDBOX.value

    def actor(self, ip: str | None) -> Actor:
        """Return the actor the audit trail records: the key's public id, never the key."""
        return Actor(user=None, ip=ip, label_override=f"API key {self.prefix}")


@dataclass
class ConnectorResult:
    """A connector written, as answers show it, and the shared secret to show once (if new)."""

    record: Row
    shown_shared_secret: str | None = field(default=None, repr=False)


# Merchants -----------------------------------------------------------------------------------


def create_merchant(actor: Actor, scope: KeyScope, data: MerchantInput) -> Customer:
    """Create a customer of the key's company."""
    return customers.create_customer(actor, data, scope.company_id)


def get_merchant(scope: KeyScope, merchant_guid: str) -> Customer:
    """Return the key's company's customer, or NotFound (also for another company's)."""
    try:
        return customers.get_customer(merchant_guid, company_id=scope.company_id)
    except NotFound:
        raise NotFound(MERCHANT_NOT_FOUND) from None


# Reading connectors --------------------------------------------------------------------------


_DEFAULT = aliased(Connection)
_CONNECTIONS = Connection.__table__
# What an answer shows of a connector, read in one statement without ORM objects (the read
# path of every answer): the connection's columns, its merchant and network, and the routing of
# a meta-connector's flow. Built once; bound per request.
_RECORDS = (
    select(
        _CONNECTIONS,
        Customer.public_id.label("merchant_guid"),
        Integration.network.label("network"),
        Flow.meta_kind.label("meta_kind"),
        Flow.re_route_recurring.label("meta_re_route_recurring"),
        Flow.default_action_disable.label("meta_default_action_disable"),
        Flow.retries.label("meta_retries"),
        Flow.expiry_hours.label("meta_expiry_hours"),
        _DEFAULT.public_id.label("meta_default_connector"),
    )
    .select_from(Connection)
    .join(Integration, Integration.id == Connection.integration_id)
    .join(Customer, Customer.id == Integration.customer_id)
    .outerjoin(Flow, Flow.meta_connection_id == Connection.id)
    .outerjoin(_DEFAULT, _DEFAULT.id == Flow.default_connection_id)
    .where(Customer.company_id == bindparam("company_id"))
)


def _visible(statement, scope: KeyScope):
    """Narrow a statement to the connectors the key may see (test mode only for Sandbox)."""
    return statement.where(Connection.test_mode.is_(True)) if scope.sandbox else statement


_RECORD_BY_GUID = {
    sandbox: statement.where(Connection.public_id == bindparam("guid"))
    for sandbox, statement in (
        (True, _RECORDS.where(Connection.test_mode.is_(True))),
        (False, _RECORDS),
    )
}


def get_connector(scope: KeyScope, connector_guid: str) -> Row:
    """Return a connector the key may see, as answers show it, or NotFound."""
    if not is_public_id(connector_guid, CONNECTION_PREFIX):
        raise NotFound(CONNECTOR_NOT_FOUND)
    record = (
        db.session.connection()
        .execute(
            _RECORD_BY_GUID[scope.sandbox],
            {"company_id": scope.company_id, "guid": connector_guid},
        )
        .first()
    )
    if record is None:
        raise NotFound(CONNECTOR_NOT_FOUND)
    return record


def _connection(scope: KeyScope, connector_guid: str) -> Connection:
    """Return the connection behind a connector the key may see (to change it), or NotFound."""
    if not is_public_id(connector_guid, CONNECTION_PREFIX):
        raise NotFound(CONNECTOR_NOT_FOUND)
    query = _visible(
        select(Connection)
        .join(Connection.integration)
        .join(Integration.customer)
        .where(Customer.company_id == scope.company_id, Connection.public_id == connector_guid),
        scope,
    )
    connection = db.session.scalar(query)
    if connection is None:
        raise NotFound(CONNECTOR_NOT_FOUND)
    return connection


@dataclass(frozen=True)
class ConnectorPage:
    """Connectors of a merchant in id order, and the id to continue after (None at the end)."""

    connectors: list[Row]
    next_after: int | None


def list_connectors(
    scope: KeyScope, merchant_guid: str, *, limit: int | None = None, after: int | None = None
) -> ConnectorPage:
    """Return the merchant's connectors the key may see: all of them, or a keyset page."""
    merchant = get_merchant(scope, merchant_guid)
    query = _visible(_RECORDS, scope).where(Integration.customer_id == merchant.id)
    query = query.order_by(Connection.id)
    if after is not None:
        query = query.where(Connection.id > after)
    params = {"company_id": scope.company_id}
    if limit is None:
        return ConnectorPage(list(db.session.connection().execute(query, params)), None)
    rows = list(db.session.connection().execute(query.limit(limit + 1), params))
    more = len(rows) > limit
    rows = rows[:limit]
    return ConnectorPage(rows, rows[-1].id if more and rows else None)


def adapter_settings(scope: KeyScope, adapter_id: str, merchant_guid: str | None = None) -> Adapter:
    """Return the adapter's configuration; a named merchant must be the key's company's."""
    adapter = ADAPTERS.get(adapter_id)
    if adapter is None:
        raise NotFound("adapterId: no such adapter")
    if merchant_guid is not None:
        get_merchant(scope, merchant_guid)
    return adapter


# Writing connectors --------------------------------------------------------------------------


def _config_sent(data: ConnectorInput) -> set[str]:
    """Return the config fields the request sent."""
    return data.config.model_fields_set if "config" in data.model_fields_set else set()


def _adapter_problems(
    adapter_id: str, extra_data: dict[str, str], vault: dict[str, Any]
) -> list[Violation]:
    """Check extra data and vault values against the adapter registry."""
    adapter = ADAPTERS[adapter_id]
    problems = adapter_extra_data_problems(adapter, extra_data)
    problems += check_properties(adapter.vault_config, vault, ("vault",))
    return [
        Violation(problem.kind, ".".join(("config", *map(str, problem.path))), problem.message)
        for problem in problems
    ]


def _meta_kind_sent(data: ConnectorInput) -> tuple[bool, MetaKind | None]:
    """Return whether the request sets the meta-connector kind, and to which (None: remove)."""
    sent = data.model_fields_set
    if data.routing_meta_connector is not None:
        return True, MetaKind.ROUTING
    if data.multi_method_meta_connector is not None:
        return True, MetaKind.MULTI_METHOD
    if "routing_meta_connector" in sent or "multi_method_meta_connector" in sent:
        return True, None
    return False, None


def _meta_problems(adapter: str, method: str, kind: MetaKind | None, sent: bool) -> list[Violation]:
    """Refuse a meta-connector block on a connector whose adapter and method are not both
    MetaConnector."""
    if kind is None or (adapter == META_CONNECTOR and method == META_CONNECTOR):
        return []
    field_name = (
        ("routing_meta_connector" if kind is MetaKind.ROUTING else "multi_method_meta_connector")
        if sent
        else "adapter"
    )
    return [
        Violation(
            "not_applicable",
            field_name,
            f"{'routingMetaConnector' if kind is MetaKind.ROUTING else 'multiMethodMetaConnector'}"
            ": only a connector whose adapter and method are both MetaConnector is a "
            "meta-connector",
        )
    ]


def _default_connector(
    scope: KeyScope, integration: Integration | None, guid: str, itself: Connection | None
) -> Connection | Violation:
    """Resolve a routing block's default connector within the meta-connector's integration."""
    where = "routing_meta_connector.default_connector"
    if itself is not None and guid == itself.public_id:
        return Violation(
            "not_applicable",
            where,
            "routingMetaConnector/defaultConnector: not the connector itself",
        )
    if integration is not None:
        # Scope: the meta-connector's own integration, and what the key may see.
        query = _visible(
            select(Connection).where(
                Connection.public_id == guid, Connection.integration_id == integration.id
            ),
            scope,
        )
        found = db.session.scalar(query)
        if found is not None:
            return found
    return Violation(
        "entity_not_found",
        where,
        "routingMetaConnector/defaultConnector: no such connector of this merchant and network",
    )


def _routing_for(
    data: ConnectorInput,
    kind: MetaKind,
    current: MetaRouting | None,
    default_connection: Connection | None,
) -> MetaRouting:
    """Merge the sent block onto the current routing of the same kind (absent fields keep)."""
    base = current if current is not None and current.kind is kind else MetaRouting(kind=kind)
    if kind is MetaKind.ROUTING:
        block = data.routing_meta_connector
        sent = block.model_fields_set
        return MetaRouting(
            kind=kind,
            default_connection=default_connection
            if "default_connector" in sent
            else base.default_connection,
            re_route_recurring=block.re_route_recurring
            if "re_route_recurring" in sent
            else base.re_route_recurring,
        )
    block = data.multi_method_meta_connector
    sent = block.model_fields_set
    return MetaRouting(
        kind=kind,
        default_action_disable=block.default_action_disable_connector
        if "default_action_disable_connector" in sent
        else base.default_action_disable,
        retries=block.retries if "retries" in sent else base.retries,
        expiry_hours=block.expiry if "expiry" in sent else base.expiry_hours,
    )


def _apply_settings_edits(connection: Connection, data: ConnectorInput) -> list[Violation]:
    """Apply removeSettings, then addSettings, onto the settings (already replaced if sent)."""
    settings = dict(connection.settings or {})
    for key in data.remove_settings or ():
        settings.pop(key, None)
    settings.update(data.add_settings or {})
    if len(settings) > 100:
        return [Violation("too_long", "add_settings", "addSettings: settings may hold 100 keys")]
    connection.settings = settings
    return []


def _meta_snapshot(connection: Connection) -> dict[str, Any] | None:
    """Return the connection's meta-connector routing as the audit trail records it."""
    flow = db.session.scalar(select(Flow).where(Flow.meta_connection_id == connection.id))
    routing = meta_routing(flow)
    return routing.as_values() if routing else None


def _sandbox_problems(scope: KeyScope, data: ConnectorInput) -> list[Violation]:
    """Refuse config.testMode false from a Sandbox key."""
    if scope.sandbox and "test_mode" in _config_sent(data) and not data.config.test_mode:
        return [
            Violation(
                "not_applicable",
                "config.test_mode",
                "config/testMode: a Sandbox key creates and updates test-mode connectors only",
            )
        ]
    return []


def _integration_for(actor: Actor, merchant: Customer, network: str) -> tuple[Integration, bool]:
    """Return the merchant's integration for the network, created (in Design) if missing."""
    query = select(Integration).where(
        Integration.customer_id == merchant.id, Integration.network_key == name_key(network)
    )
    integration = db.session.scalar(query)
    if integration is not None:
        return integration, False
    integration = Integration(
        customer_id=merchant.id,
        name=network,
        name_key=name_key(network),
        network=network,
        network_key=name_key(network),
        type=IntegrationType.DESIGN.value,
    )
    db.session.add(integration)
    # Another request may create it meanwhile: the unique (customer, network) decides.
    unique_or_conflict(_IntegrationRace)
    return integration, True


class _IntegrationRace(DomainError):
    """Another request created the merchant's integration for this network meanwhile."""

    def __init__(self) -> None:
        super().__init__("The integration was created by another request.")


def create_connector(
    actor: Actor, scope: KeyScope, merchant_guid: str, data: NewConnectorInput, box: SecretBox
) -> ConnectorResult:
    """Create a connector in the merchant's integration for the network (one transaction)."""
    for attempt in range(2):
        try:
            return _create_connector(actor, scope, merchant_guid, data, box)
        except _IntegrationRace:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _create_connector(
    actor: Actor, scope: KeyScope, merchant_guid: str, data: NewConnectorInput, box: SecretBox
) -> ConnectorResult:
    """Create the connector; raise _IntegrationRace when another request won the integration."""
    merchant = get_merchant(scope, merchant_guid)
    if scope.sandbox and "test_mode" not in _config_sent(data):
        data.config.test_mode = True  # a Sandbox key's connectors are test-mode ones
    sent_kind, kind = _meta_kind_sent(data)
    violations = _sandbox_problems(scope, data)
    violations += _adapter_problems(data.adapter, data.config.extra_data, data.config.vault)
    violations += _meta_problems(data.adapter, data.method, kind, sent_kind)
    existing = db.session.scalar(
        select(Integration).where(
            Integration.customer_id == merchant.id,
            Integration.network_key == name_key(data.network),
        )
    )
    default = None
    guid = data.routing_meta_connector.default_connector if kind is MetaKind.ROUTING else None
    if guid is not None:
        default = _default_connector(scope, existing, guid, None)
        if isinstance(default, Violation):
            violations.append(default)
    if violations:
        raise RulesBroken(violations)

    integration, created = _integration_for(actor, merchant, data.network)
    connection = connections.new_connection(integration)
    shown = connections.apply_input(connection, data, box, creating=True)
    violations = _apply_settings_edits(connection, data)
    if violations:
        raise RulesBroken(violations)
    db.session.add(connection)
    unique_or_conflict(connections.name_taken(connection.name))
    if kind is not None:
        stage_meta_routing(connection, _routing_for(data, kind, None, default))
    changes = connections.creation_changes(connection)
    changes["merchant"] = merchant.public_id
    changes["network"] = integration.network
    if created:
        changes["integration_created"] = True
    if kind is not None:
        changes["meta"] = _meta_snapshot(connection)
    audit.record(
        actor, "connection.create", connection, object_id=connection.public_id, changes=changes
    )
    db.session.commit()
    return ConnectorResult(get_connector(scope, connection.public_id), shown)


def update_connector(
    actor: Actor, scope: KeyScope, connector_guid: str, data: ConnectorUpdate, box: SecretBox
) -> ConnectorResult:
    """Change what the request sent and nothing else, under the row's lock (one transaction)."""
    connection = _connection(scope, connector_guid)
    # Concurrent updates of one connector queue here, so none is lost (settings merges too).
    lock_row(connection)
    if connection.meta_flow is not None:
        db.session.refresh(connection.meta_flow)
    if scope.sandbox and not connection.test_mode:
        raise NotFound(CONNECTOR_NOT_FOUND)  # switched to production meanwhile
    sent = data.model_fields_set
    config_sent = _config_sent(data)
    adapter = data.adapter if "adapter" in sent else connection.adapter
    method = data.method if "method" in sent else connection.method
    current = meta_routing(connection.meta_flow)
    sent_kind, kind = _meta_kind_sent(data)
    effective_kind = kind if sent_kind else (current.kind if current else None)

    violations = _sandbox_problems(scope, data)
    if "adapter" in sent or "extra_data" in config_sent or "vault" in config_sent:
        violations += _adapter_problems(
            adapter,
            data.config.extra_data if "extra_data" in config_sent else connection.extra_data,
            data.config.vault if "vault" in config_sent else connection.vault,
        )
    violations += _meta_problems(adapter, method, effective_kind, sent_kind)
    default = None
    if (
        kind is MetaKind.ROUTING
        and "default_connector" in data.routing_meta_connector.model_fields_set
    ):
        guid = data.routing_meta_connector.default_connector
        if guid is not None:
            default = _default_connector(scope, connection.integration, guid, connection)
            if isinstance(default, Violation):
                violations.append(default)
    if violations:
        raise RulesBroken(violations)

    before = {**connections.snapshot(connection), "meta": _meta_snapshot(connection)}
    new_secret = "shared_secret" in sent and data.shared_secret is None
    shown = connections.apply_input(
        connection, data, box, creating=False, new_shared_secret=new_secret
    )
    if "add_settings" in sent or "remove_settings" in sent:
        violations = _apply_settings_edits(connection, data)
        if violations:
            raise RulesBroken(violations)
    unique_or_conflict(connections.name_taken(connection.name))
    if sent_kind:
        stage_meta_routing(
            connection, _routing_for(data, kind, current, default) if kind is not None else None
        )
    after = {**connections.snapshot(connection), "meta": _meta_snapshot(connection)}
    changes = audit.diff(before, after)
    if changes:
        audit.record(
            actor, "connection.update", connection, object_id=connection.public_id, changes=changes
        )
    # Committing also ends the row lock when nothing changed.
    db.session.commit()
    return ConnectorResult(get_connector(scope, connection.public_id), shown)
