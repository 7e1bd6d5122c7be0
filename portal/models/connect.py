"""Connect: customers, their integrations (one per network), connections and flows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
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
    api_key: Mapped[str | None] = mapped_column(String(255))
    public_integration_key: Mapped[str | None] = mapped_column(String(255))
    # Secrets hold Fernet tokens, never plaintext.
    shared_secret_encrypted: Mapped[str] = mapped_column(Text, info=ENCRYPTED)
    business_country: Mapped[str | None] = mapped_column(String(2))
    description: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(255))
    password_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    api_secret_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    language: Mapped[str | None] = mapped_column(String(2))
    test_mode: Mapped[bool] = mapped_column(default=False)
    extra_data: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    disabled_transaction_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    postback_format: Mapped[str] = mapped_column(String(10), default="inherit")
    scheduler_enabled: Mapped[bool] = mapped_column(default=False)
    virtual_terminal_enabled: Mapped[bool] = mapped_column(default=False)
    alias: Mapped[str | None] = mapped_column(String(100))
    terminals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    settings: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    integration: Mapped[Integration] = relationship(back_populates="connections")

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        """Keep the unique key in step with the name."""
        self.name_key = name_key(name)
        return name


class Flow(Timestamped, Base):
    """A routing rule of an integration: a default connection, retries and expiry."""

    __tablename__ = "flows"
    __table_args__ = (
        UniqueConstraint("integration_id", "name_key"),
        # RESTRICT: a connection a flow routes to cannot be deleted from under it.
        ForeignKeyConstraint(
            ["integration_id", "default_connection_id"],
            ["connections.integration_id", "connections.id"],
            ondelete="RESTRICT",
        ),
        CheckConstraint("retries BETWEEN 0 AND 9", name="retries"),
        CheckConstraint("expiry_hours BETWEEN 0 AND 8760", name="expiry_hours"),
        Index("ix_flows_default_connection_id", "default_connection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique constraints that start with integration_id index it already.
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    transaction_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_connection_id: Mapped[int] = mapped_column()
    re_route_recurring: Mapped[bool] = mapped_column(default=False)
    retries: Mapped[int] = mapped_column(default=0)
    expiry_hours: Mapped[int] = mapped_column(default=0)

    integration: Mapped[Integration] = relationship(back_populates="flows")
    default_connection: Mapped[Connection] = relationship(
        primaryjoin="and_(foreign(Flow.integration_id) == Connection.integration_id, "
        "foreign(Flow.default_connection_id) == Connection.id)",
        viewonly=True,
    )

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        """Keep the unique key in step with the name."""
        self.name_key = name_key(name)
        return name
