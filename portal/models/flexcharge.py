"""FlexCharge (seed 001): per-merchant settings, credentials, sites, transactions, deliveries.

A merchant is a Connect customer. Its FlexCharge settings hold the three independent profiles
("CIT - website", "CIT - call center", "MIT"), each Off / Sandbox / Production; its credentials
are one set per environment; its sites say where each transaction comes from. Transactions are
the copies of processed payments the merchant's systems send through the API; deliveries are the
outbox rows of the calls (transmit, evaluate) a background job makes to FlexCharge.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import ENCRYPTED, Base, LabelledEnum, Timestamped, utcnow
from portal.models.connect import Customer
from portal.models.environment import Environment, environment_check


class ProfileMode(LabelledEnum):
    """Where a profile's transactions go: nowhere, the FlexCharge Sandbox, or production."""

    OFF = "off"
    SANDBOX = "sandbox"
    PRODUCTION = "production"


class Profile(LabelledEnum):
    """The three profiles of seed 001's "Multiprofile", switched independently."""

    CIT_WEBSITE = "cit_website"
    CIT_CALL_CENTER = "cit_call_center"
    MIT = "mit"

    @property
    def label(self) -> str:
        """Return the seed's wording: "CIT - website", "CIT - call center", "MIT"."""
        return PROFILE_LABELS[self]


PROFILE_LABELS = {
    Profile.CIT_WEBSITE: "CIT - website",
    Profile.CIT_CALL_CENTER: "CIT - call center",
    Profile.MIT: "MIT",
}


class TransmitState(LabelledEnum):
    """Where the copy of a transaction stands on its way to FlexCharge's /transmit."""

    PENDING = "pending"
    SENT = "sent"
    NOT_SENT = "not_sent"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """Return "Pending", "Sent", "Not sent" or "Failed"."""
        return self.value.replace("_", " ").capitalize()


class EvaluateState(LabelledEnum):
    """Where the evaluation of a decline stands (declines only)."""

    ANSWERED = "answered"
    QUEUED = "queued"
    NOT_SENT = "not_sent"
    FAILED = "failed"


class DeliveryKind(LabelledEnum):
    """The outbound call a delivery makes."""

    TRANSMIT = "transmit"
    EVALUATE = "evaluate"


class DeliveryState(LabelledEnum):
    """An outbox row: waiting (pending), claimed by a worker, delivered, or given up."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    FAILED = "failed"


def _values_check(column: str, enum: type[LabelledEnum]) -> str:
    """Return the SQL condition that keeps a column to the enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class FlexChargeSettings(Timestamped, Base):
    """A merchant's FlexCharge switch and its three profiles; absent until first enabled."""

    __tablename__ = "flexcharge_settings"
    __table_args__ = (
        CheckConstraint(_values_check("cit_website", ProfileMode), name="cit_website"),
        CheckConstraint(_values_check("cit_call_center", ProfileMode), name="cit_call_center"),
        CheckConstraint(_values_check("mit", ProfileMode), name="mit"),
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=False)
    # Who switched FlexCharge on and when, as the tab shows it (kept if the user goes).
    enabled_at: Mapped[datetime | None]
    enabled_by_label: Mapped[str | None] = mapped_column(String(254))
    cit_website: Mapped[str] = mapped_column(String(16), default=ProfileMode.OFF.value)
    cit_call_center: Mapped[str] = mapped_column(String(16), default=ProfileMode.OFF.value)
    mit: Mapped[str] = mapped_column(String(16), default=ProfileMode.OFF.value)

    customer: Mapped[Customer] = relationship()

    def mode(self, profile: Profile) -> ProfileMode:
        """Return the mode of one profile."""
        return ProfileMode(getattr(self, profile.value))


class FlexChargeCredentials(Timestamped, Base):
    """One environment's credential set of a merchant, and its cached access token.

    The access token is shared by every worker and host through this row; it lasts
    10 minutes (reference A.2) and is fetched again when it expires or FlexCharge answers 401.
    """

    __tablename__ = "flexcharge_credentials"
    __table_args__ = (
        UniqueConstraint("customer_id", "environment"),
        CheckConstraint(environment_check(), name="environment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(16))
    mid: Mapped[str] = mapped_column(String(36))
    app_key: Mapped[str] = mapped_column(String(255))
    app_secret_encrypted: Mapped[str] = mapped_column(Text, info=ENCRYPTED)
    app_secret_mask: Mapped[str] = mapped_column(String(64))
    tokenization_key_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    tokenization_key_mask: Mapped[str | None] = mapped_column(String(64))
    webhook_key_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    webhook_key_mask: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[str | None] = mapped_column(String(36))
    verified_at: Mapped[datetime | None]
    access_token_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    access_token_expires_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()

    @property
    def environment_label(self) -> str:
        """Return "Production" or "Sandbox"."""
        return Environment(self.environment).label


class FlexChargeSite(Timestamped, Base):
    """A merchant's website: its URL, its descriptor, an optional FlexCharge Site ID."""

    __tablename__ = "flexcharge_sites"
    __table_args__ = (
        # A transaction names its site by URL (host) or descriptor: each must find one site.
        UniqueConstraint("customer_id", "host"),
        UniqueConstraint("customer_id", "descriptor_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(255))
    # Lower-case host name of the URL: what a transaction's siteUrl is matched on.
    host: Mapped[str] = mapped_column(String(255))
    descriptor: Mapped[str] = mapped_column(String(100))
    descriptor_key: Mapped[str] = mapped_column(String(100))
    site_id: Mapped[str | None] = mapped_column(String(36))
    enabled: Mapped[bool] = mapped_column(default=True)

    customer: Mapped[Customer] = relationship()


class Transaction(Base):
    """A copy of a merchant's processed payment, and where its FlexCharge calls stand.

    Card data is limited to brand, BIN, last four, expiry and holder name: the full number and
    the CVV of a decline exist only in memory for the one /tokenize call.
    """

    __tablename__ = "transactions"
    __table_args__ = (
        # A client repeating a request gets the first answer: the schema decides "same".
        UniqueConstraint("customer_id", "order_id", "external_id"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("status IN ('approved', 'declined')", name="status"),
        CheckConstraint("initiator IN ('CIT', 'MIT')", name="initiator"),
        CheckConstraint(_values_check("profile", Profile), name="profile"),
        CheckConstraint(_values_check("transmit_state", TransmitState), name="transmit_state"),
        # The report pages by id (newest first), filtered by merchant or by date.
        Index("ix_transactions_customer_id_id", "customer_id", "id"),
        Index("ix_transactions_occurred_on_id", "occurred_on", "id"),
        Index("ix_transactions_site_id", "site_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # The environment of the API key that sent it; a Sandbox key never reaches production.
    key_environment: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10))
    response_code: Mapped[str | None] = mapped_column(String(50))
    response_description: Mapped[str | None] = mapped_column(String(255))
    processor_name: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime]
    # The UTC day of occurred_at, for the date filter and the per-day chart.
    occurred_on: Mapped[date]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    initiator: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str | None] = mapped_column(String(16))
    profile: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("flexcharge_sites.id", ondelete="SET NULL")
    )
    # As the client sent them, and as the report groups them.
    site_url: Mapped[str | None] = mapped_column(String(255))
    descriptor: Mapped[str | None] = mapped_column(String(100))
    customer_ip: Mapped[str | None] = mapped_column(String(45))
    payer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    billing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    card_brand: Mapped[str | None] = mapped_column(String(30))
    card_bin: Mapped[str | None] = mapped_column(String(8))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None]
    card_exp_year: Mapped[int | None]
    card_holder: Mapped[str | None] = mapped_column(String(100))
    # The FlexCharge environment it goes to; None when it is not sent.
    environment: Mapped[str | None] = mapped_column(String(16))
    transmit_state: Mapped[str] = mapped_column(String(16))
    # Why it was not sent (a code the report groups by) or why delivery failed.
    transmit_reason: Mapped[str | None] = mapped_column(String(40))
    transmit_id: Mapped[str | None] = mapped_column(String(100))
    evaluate_state: Mapped[str | None] = mapped_column(String(16))
    evaluate_reason: Mapped[str | None] = mapped_column(String(255))
    evaluate_status: Mapped[str | None] = mapped_column(String(32))
    order_session_key: Mapped[str | None] = mapped_column(String(100), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(36))
    # FlexCharge's payment-method token (not card data), kept for a queued evaluate.
    payment_token_encrypted: Mapped[str | None] = mapped_column(Text, info=ENCRYPTED)
    # The latest order event a FlexCharge webhook reported (completed, refunded, ...).
    order_status: Mapped[str | None] = mapped_column(String(32))
    order_status_at: Mapped[datetime | None]
    # The first answer, returned again when the client repeats the request.
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    customer: Mapped[Customer] = relationship()
    site: Mapped[FlexChargeSite | None] = relationship()
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="transaction",
        order_by="Delivery.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def profile_label(self) -> str:
        """Return the profile's wording ("CIT - website", ...)."""
        return Profile(self.profile).label


class Delivery(Timestamped, Base):
    """An outbox row: one call to FlexCharge that a background job makes, with its attempts.

    Written in the same database transaction as the transaction itself, so a crash between the
    commit and the enqueue loses nothing: a periodic task enqueues rows left pending too long.
    A worker claims a row with a conditional UPDATE before calling, so two workers never
    deliver the same row.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("transaction_id", "kind"),
        CheckConstraint(_values_check("kind", DeliveryKind), name="kind"),
        CheckConstraint(_values_check("state", DeliveryState), name="state"),
        # The periodic task looks for pending rows by due time, and for expired claims.
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    environment: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set while a worker holds the row; a claim that outlives this was a crashed worker.
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]

    transaction: Mapped[Transaction] = relationship(back_populates="deliveries")


class WebhookEvent(Base):
    """An order event FlexCharge sent; a resent one (same event and order) is applied once."""

    __tablename__ = "flexcharge_webhook_events"
    __table_args__ = (UniqueConstraint("customer_id", "event", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(100))
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
