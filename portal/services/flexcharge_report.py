"""The FlexCharge report: transactions filtered, totalled, paged, exported and charted.

Seed 001: "make sure the reporting is accurate regarding transactions / descriptors /
websites". Every figure is computed by the database from the same filtered rows the page lists
and the CSV exports, with integer amounts in minor units, so totals reconcile exactly with the
rows. Pages are keyset-paged on the id (newest first) and never count the whole table; the CSV
is read in keyset batches, so its memory stays flat at any size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    Customer,
    EvaluateState,
    FlexChargeSite,
    Profile,
    Transaction,
    TransmitState,
)
from portal.schemas.transactions import currency_exponent

PAGE_SIZE = 50
#: What a listed or exported row shows besides its own columns, loaded with the rows (no N+1).
ROW_LOADING = (
    joinedload(Transaction.customer),
    joinedload(Transaction.site),
    selectinload(Transaction.deliveries),
)
CSV_BATCH = 1000
#: The chart shows at most this many days (the last ones of the filtered range).
CHART_DAYS = 62

#: The report's categories: how each counts a transaction, in the order of the columns.
CATEGORIES: dict[str, tuple[str, Any]] = {
    "all": ("All", true()),
    "transmitted": ("Transmitted", Transaction.transmit_state == TransmitState.SENT.value),
    "evaluated": ("Evaluated", Transaction.evaluate_state == EvaluateState.ANSWERED.value),
    "approved_by_flexcharge": ("Approved by FlexCharge", Transaction.evaluate_status == "APPROVED"),
    "not_sent": ("Not sent", Transaction.transmit_state == TransmitState.NOT_SENT.value),
    "pending": (
        "Pending delivery",
        or_(
            Transaction.transmit_state == TransmitState.PENDING.value,
            Transaction.evaluate_state == EvaluateState.QUEUED.value,
        ),
    ),
    "failed": (
        "Failed",
        or_(
            Transaction.transmit_state == TransmitState.FAILED.value,
            Transaction.evaluate_state == EvaluateState.FAILED.value,
        ),
    ),
}

#: The status filter: payment outcome, or one of the categories above.
STATUS_FILTERS: dict[str, tuple[str, Any]] = {
    "approved": ("Approved (payment)", Transaction.status == "approved"),
    "declined": ("Declined (payment)", Transaction.status == "declined"),
    **{key: value for key, value in CATEGORIES.items() if key != "all"},
}


@dataclass(frozen=True)
class ReportFilter:
    """What the report narrows transactions to; None means any."""

    customer_id: int | None = None
    site_id: int | None = None
    descriptor: str | None = None
    profile: str | None = None
    environment: str | None = None
    status: str | None = None
    since: date | None = None
    until: date | None = None


def conditions(filters: ReportFilter) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of the filters."""
    where: list[ColumnElement[bool]] = []
    if filters.customer_id is not None:
        where.append(Transaction.customer_id == filters.customer_id)
    if filters.site_id is not None:
        where.append(Transaction.site_id == filters.site_id)
    if filters.descriptor:
        where.append(Transaction.descriptor == filters.descriptor)
    if filters.profile:
        where.append(Transaction.profile == filters.profile)
    if filters.environment == "none":
        where.append(Transaction.environment.is_(None))
    elif filters.environment:
        where.append(Transaction.environment == filters.environment)
    if filters.status in STATUS_FILTERS:
        where.append(STATUS_FILTERS[filters.status][1])
    if filters.since:
        where.append(Transaction.occurred_on >= filters.since)
    if filters.until:
        where.append(Transaction.occurred_on <= filters.until)
    return where


@dataclass
class Cell:
    """A count and the amounts per currency (minor units) of one category."""

    count: int = 0
    amounts: dict[str, int] = field(default_factory=dict)

    def add(self, count: int, currency: str, amount: int) -> None:
        """Add a currency's count and amount."""
        self.count += count
        if count:
            self.amounts[currency] = self.amounts.get(currency, 0) + amount


@dataclass
class Group:
    """The totals of one (site, descriptor, profile) group, per category."""

    site: str
    descriptor: str
    profile: str
    cells: dict[str, Cell] = field(default_factory=lambda: {key: Cell() for key in CATEGORIES})

    @property
    def profile_label(self) -> str:
        """Return the profile's wording."""
        return Profile(self.profile).label


@dataclass
class Totals:
    """The groups, the grand total, and why transactions were not sent."""

    groups: list[Group]
    total: dict[str, Cell]
    not_sent: list[tuple[str, str, str, int]]


#: How each category counts a row of (transmit state, evaluate state, evaluate status), the
#: same rules as CATEGORIES says in SQL (the reconciliation tests hold the two together).
ROW_RULES = {
    "all": lambda t, e, s: True,
    "transmitted": lambda t, e, s: t == TransmitState.SENT.value,
    "evaluated": lambda t, e, s: e == EvaluateState.ANSWERED.value,
    "approved_by_flexcharge": lambda t, e, s: s == "APPROVED",
    "not_sent": lambda t, e, s: t == TransmitState.NOT_SENT.value,
    "pending": lambda t, e, s: t == TransmitState.PENDING.value or e == EvaluateState.QUEUED.value,
    "failed": lambda t, e, s: t == TransmitState.FAILED.value or e == EvaluateState.FAILED.value,
}


def totals(filters: ReportFilter) -> Totals:
    """Return totals by site, descriptor and profile, and the not-sent reasons, in one scan.

    The database groups the filtered rows by their states (a few hundred groups at most) with
    one count and one sum each; the categories are folded from those groups here, so 100,000
    rows are read once.
    """
    site_label = func.coalesce(FlexChargeSite.url, Transaction.site_url, "")
    descriptor = func.coalesce(Transaction.descriptor, "")
    keys = (
        site_label,
        descriptor,
        Transaction.profile,
        Transaction.currency,
        Transaction.transmit_state,
        Transaction.transmit_reason,
        Transaction.evaluate_state,
        Transaction.evaluate_status,
    )
    query = (
        select(*keys, func.count(), func.sum(Transaction.amount))
        .select_from(Transaction)
        .outerjoin(FlexChargeSite, FlexChargeSite.id == Transaction.site_id)
        .where(*conditions(filters))
        .group_by(*keys)
    )
    groups: dict[tuple[str, str, str], Group] = {}
    grand = {key: Cell() for key in CATEGORIES}
    reasons: dict[tuple[str, str, str], int] = {}
    for (
        site,
        desc,
        profile,
        currency,
        transmit,
        reason,
        evaluate,
        status,
        count,
        amount,
    ) in db.session.execute(query):
        group = groups.setdefault((site, desc, profile), Group(site, desc, profile))
        for category, rule in ROW_RULES.items():
            if rule(transmit, evaluate, status):
                group.cells[category].add(count, currency, int(amount or 0))
                grand[category].add(count, currency, int(amount or 0))
        if transmit == TransmitState.NOT_SENT.value:
            key = (reason or "", profile, site)
            reasons[key] = reasons.get(key, 0) + count
    ordered = sorted(groups.values(), key=lambda g: (g.site, g.descriptor, g.profile))
    not_sent = sorted(
        ((code, profile, site, count) for (code, profile, site), count in reasons.items()),
        key=lambda item: (-item[3], item[0], item[2]),
    )
    return Totals(ordered, grand, not_sent)


@dataclass(frozen=True)
class ReportPage:
    """One page of transactions, newest first, with the cursors of its neighbours."""

    transactions: list[Transaction]
    next_before: int | None
    previous_after: int | None


def page(
    filters: ReportFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> ReportPage:
    """Return a page of the filtered transactions, newest first (keyset on the id)."""
    query = select(Transaction).where(*conditions(filters)).options(*ROW_LOADING)
    backwards = after is not None and before is None
    if before is not None:
        query = query.where(Transaction.id < before)
    elif after is not None:
        query = query.where(Transaction.id > after)
    order = Transaction.id.asc() if backwards else Transaction.id.desc()
    rows = list(db.session.scalars(query.order_by(order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        return ReportPage(
            rows, rows[-1].id if rows else None, rows[0].id if more and rows else None
        )
    return ReportPage(
        rows,
        rows[-1].id if more and rows else None,
        rows[0].id if (before is not None or after is not None) and rows else None,
    )


def rows_for_export(filters: ReportFilter) -> Iterator[Transaction]:
    """Yield every filtered transaction, newest first, a keyset batch at a time."""
    before: int | None = None
    while True:
        query = select(Transaction).where(*conditions(filters)).options(*ROW_LOADING)
        if before is not None:
            query = query.where(Transaction.id < before)
        batch = list(db.session.scalars(query.order_by(Transaction.id.desc()).limit(CSV_BATCH)))
        yield from batch
        if len(batch) < CSV_BATCH:
            return
        before = batch[-1].id
        # Batches already written are not needed again: keep the session's memory flat.
        db.session.expunge_all()


@dataclass(frozen=True)
class Day:
    """Declines and FlexCharge approvals of one day."""

    day: date
    declines: int
    approvals: int


def per_day(filters: ReportFilter) -> list[Day]:
    """Return declines and FlexCharge approvals per day, for the chart (last days of range)."""
    declined = func.sum(case((Transaction.status == "declined", 1), else_=0))
    approved = func.sum(case((Transaction.evaluate_status == "APPROVED", 1), else_=0))
    first_day, last_day = db.session.execute(
        select(func.min(Transaction.occurred_on), func.max(Transaction.occurred_on)).where(
            *conditions(filters)
        )
    ).one()
    if last_day is None:
        return []
    # The days that have transactions, at most the last CHART_DAYS of them.
    first_day = max(first_day, last_day - timedelta(days=CHART_DAYS - 1))
    query = (
        select(Transaction.occurred_on, declined, approved)
        .where(*conditions(filters), and_(Transaction.occurred_on >= first_day))
        .group_by(Transaction.occurred_on)
    )
    found = {day: (int(d or 0), int(a or 0)) for day, d, a in db.session.execute(query)}
    days = []
    current = first_day
    while current <= last_day:
        declines, approvals = found.get(current, (0, 0))
        days.append(Day(current, declines, approvals))
        current += timedelta(days=1)
    return days


def format_amount(amount: int, currency: str) -> str:
    """Show minor units in the currency's own decimals, e.g. 123456 USD -> "1,234.56 USD"."""
    exponent = currency_exponent(currency) or 0
    sign = "-" if amount < 0 else ""
    whole, minor = divmod(abs(amount), 10**exponent) if exponent else (abs(amount), 0)
    text = f"{whole:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    return f"{sign}{text} {currency}"


def merchants_for_filter() -> list[tuple[str, str]]:
    """Return (public id, name) of merchants that have FlexCharge transactions or settings."""
    query = select(Customer.public_id, Customer.name).order_by(Customer.name_key).limit(500)
    return [(public_id, name) for public_id, name in db.session.execute(query)]


def sites_for_filter(customer_id: int | None) -> list[tuple[int, str]]:
    """Return (id, URL) of the sites a filter may pick (one merchant's, or all)."""
    query = (
        select(FlexChargeSite.id, FlexChargeSite.url, Customer.name)
        .join(Customer, Customer.id == FlexChargeSite.customer_id)
        .order_by(FlexChargeSite.host, Customer.name_key)
    )
    if customer_id is not None:
        query = query.where(FlexChargeSite.customer_id == customer_id)
        return [(site_id, url) for site_id, url, _ in db.session.execute(query.limit(500))]
    # Several merchants may sell on the same URL: name each site's merchant.
    return [
        (site_id, f"{url} ({name})") for site_id, url, name in db.session.execute(query.limit(500))
    ]
