"""Connect: customers, their integrations (one per network), connections and flows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.core.names import name_key
from portal.models.base import ENCRYPTED, Base, LabelledEnum, Timestamped
from portal.models.company import Company


class IntegrationType(LabelledEnum):
    """Whether an integration is still being configured or carries live traffic."""

    DESIGN = "design"
    LIVE = "live"


class Customer(Timestamped, Base):
    """A payer or merchant the platform serves; its company scopes the API keys that see it."""

    __tablename__ = "customers"
    # (name_key, id) serves both the search and the keyset pagination of the customers list.
    __table_args__ = (Index("ix_customers_name_key_id", "name_key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Case-folded name, so the list sorts and searches regardless of case.
    name_key: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="RESTRICT"), index=True
    )
    # Merchant details the provisioning API sets (reference B.6); the Connect pages show them.
    external_id: Mapped[str | None] = mapped_column(String(255))
    homepage: Mapped[str | None] = mapped_column(String(2000))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    country: Mapped[str | None] = mapped_column(String(2))
    default_currency: Mapped[str | None] = mapped_column(String(3))
    administrative_email: Mapped[str | None] = mapped_column(String(254))
    risk_alert_email: Mapped[str | None] = mapped_column(String(254))
    scheduler_alert_email: Mapped[str | None] = mapped_column(String(254))
    technical_email: Mapped[str | None] = mapped_column(String(254))

    company: Mapped[Company] = relationship()
    integrations: Mapped[list[Integration]] = relationship(
        back_populates="customer",
        order_by="Integration.name_key",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Integration(Timestamped, Base):
    """One customer connected to one network; deleting it deletes its connections and flows."""

    __tablename__ = "integrations"
    __table_args__ = (
        # One integration per payer-network pair; "Visa" and "visa" are the same network.
        UniqueConstraint("customer_id", "network_key"),
        CheckConstraint("type IN ('design', 'live')", name="type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    network: Mapped[str] = mapped_column(String(100))
    network_key: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(10), default=IntegrationType.DESIGN.value)

    customer: Mapped[Customer] = relationship(back_populates="integrations")
    connections: Mapped[list[Connection]] = relationship(
        back_populates="integration",
        order_by="Connection.name_key",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    flows: Mapped[list[Flow]] = relationship(
        back_populates="integration",
        order_by="Flow.name_key",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def type_label(self) -> str:
        """Return "Design" or "Live"."""
        return IntegrationType(self.type).label


class Connection(Timestamped, Base):
    """A configured gateway connector of an integration (the fields of seed 002)."""

    __tablename__ = "connections"
    __table_args__ = (
        # By the case-folded, NFKC key: "Conn Dup" and "conn  dup" are one name.
        UniqueConstraint("integration_id", "name_key"),
        # The target of flows' composite foreign key: a flow's default connection must be
        # a connection of the flow's own integration, enforced by the schema itself.
        UniqueConstraint("integration_id", "id"),
        CheckConstraint("postback_format IN ('inherit', 'json', 'xml')", name="postback_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # The unique constraints that start with integration_id index it already.
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    adapter: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(100))
    public_integration_key: Mapped[str | None] = mapped_column(String(255))
    # Secrets hold Fernet tokens, never plaintext. The connector API key is a credential too.
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    shared_secret_encrypted: Mapped[str] = mapped_column(Text, info=ENCRYPTED)
    business_country: Mapped[str | None] = mapped_column(String(2))
    description: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(255))
    password_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    api_secret_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    language: Mapped[str | None] = mapped_column(String(2))
    test_mode: Mapped[bool] = mapped_column(default=False)
    extra_data: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Vault adapters' configuration: JSON values checked against the adapter registry.
    vault: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    disabled_transaction_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    postback_format: Mapped[str] = mapped_column(String(10), default="inherit")
    scheduler_enabled: Mapped[bool] = mapped_column(default=False)
    virtual_terminal_enabled: Mapped[bool] = mapped_column(default=False)
    alias: Mapped[str | None] = mapped_column(String(100))
    terminals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    settings: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Seed 002's int64 identifiers of objects outside the portal, kept as the API sets them.
    customer_profile_container: Mapped[int | None] = mapped_column(BigInteger)
    default_risk_rule_set: Mapped[int | None] = mapped_column(BigInteger)
    vt_risk_rule_set: Mapped[int | None] = mapped_column(BigInteger)
    provider: Mapped[str | None] = mapped_column(String(100))

    integration: Mapped[Integration] = relationship(back_populates="connections")
    # The flow that holds a meta-connector's routing (None for an ordinary connection).
    meta_flow: Mapped[Flow | None] = relationship(
        primaryjoin="and_(Connection.integration_id == foreign(Flow.integration_id), "
        "Connection.id == foreign(Flow.meta_connection_id))",
        viewonly=True,
        uselist=False,
    )

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        """Keep the unique key in step with the name."""
        self.name_key = name_key(name)
        return name


class MetaKind(LabelledEnum):
    """The two kinds of meta-connector of seed 002, each held by a flow."""

    ROUTING = "routing"
    MULTI_METHOD = "multi_method"


class Flow(Timestamped, Base):
    """A routing rule of an integration: a default connection, retries and expiry.

    A meta-connector (seed 002) is a connection whose routing is a flow: the flow names it in
    ``meta_connection_id`` and says which kind it is; such a flow is edited through its
    connection (the provisioning API), and goes when the connection goes.
    """

    __tablename__ = "flows"
    __table_args__ = (
        UniqueConstraint("integration_id", "name_key"),
        UniqueConstraint("meta_connection_id"),
        # RESTRICT: a connection a flow routes to cannot be deleted from under it.
        ForeignKeyConstraint(
            ["integration_id", "default_connection_id"],
            ["connections.integration_id", "connections.id"],
            ondelete="RESTRICT",
        ),
        # A meta-connector's flow lives in its connection's integration and goes with it.
        ForeignKeyConstraint(
            ["integration_id", "meta_connection_id"],
            ["connections.integration_id", "connections.id"],
            ondelete="CASCADE",
            name="fk_flows_meta_connection_id_connections",
        ),
        CheckConstraint("retries BETWEEN 0 AND 9", name="retries"),
        CheckConstraint("expiry_hours BETWEEN 0 AND 8760", name="expiry_hours"),
        CheckConstraint(
            "meta_kind IS NULL OR meta_kind IN ('routing', 'multi_method')", name="meta_kind"
        ),
        # A flow of the Connect pages always routes somewhere; a meta-connector's may not yet.
        CheckConstraint(
            "(meta_connection_id IS NULL AND meta_kind IS NULL AND "
            "default_connection_id IS NOT NULL) OR "
            "(meta_connection_id IS NOT NULL AND meta_kind IS NOT NULL)",
            name="meta_or_routed",
        ),
        Index("ix_flows_default_connection_id", "default_connection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique constraints that start with integration_id index it already.
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    transaction_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_connection_id: Mapped[int | None] = mapped_column()
    re_route_recurring: Mapped[bool] = mapped_column(default=False)
    retries: Mapped[int] = mapped_column(default=0)
    expiry_hours: Mapped[int] = mapped_column(default=0)
    meta_connection_id: Mapped[int | None] = mapped_column()
    meta_kind: Mapped[str | None] = mapped_column(String(16))
    # Multi-method meta-connectors: disable the connector when no rule acts.
    default_action_disable: Mapped[bool] = mapped_column(default=False, server_default=false())

    integration: Mapped[Integration] = relationship(back_populates="flows")
    meta_connection: Mapped[Connection | None] = relationship(
        primaryjoin="and_(foreign(Flow.integration_id) == Connection.integration_id, "
        "foreign(Flow.meta_connection_id) == Connection.id)",
        viewonly=True,
    )
    default_connection: Mapped[Connection | None] = relationship(
        primaryjoin="and_(foreign(Flow.integration_id) == Connection.integration_id, "
        "foreign(Flow.default_connection_id) == Connection.id)",
        viewonly=True,
    )

    @property
    def label(self) -> str:
        """Return the name people know the flow by: its own, or its meta-connector's."""
        if self.meta_connection_id is None:
            return self.name
        return f"meta-connector {self.meta_connection.name}"

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        """Keep the unique key in step with the name."""
        self.name_key = name_key(name)
        return name
