"""Connect > "FlexCharge report": totals that reconcile with the rows, filters, pages, CSV."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Transaction
from portal.services import customers
from portal.services import flexcharge_merchants as merchants
from portal.services import flexcharge_report as report
from tests import factories
from tests.support.fake_flexcharge import APPROVING_CARD, FakeFlexCharge
from tests.support.flexcharge import (
    SYSTEM,
    app_on_fake_flexcharge,  # noqa: F401 (a fixture)
    bearer,
    declined_body,
    fake_flexcharge,  # noqa: F401 (a fixture)
    onboard,
    run_jobs,
    site_of,
    transaction_body,
)
from tests.support.web import csrf_token

# Also run against PostgreSQL and Redis (the job store) in `make test-services`.
pytestmark = pytest.mark.services

URL = "/connect/flexcharge/report"


@pytest.fixture
def world(app: Flask, client: FlaskClient, fake: FakeFlexCharge) -> dict:
    """Send a mix of transactions: two sites (one off), three profiles, two currencies,
    approvals and declines, one failed delivery; then let the worker deliver."""
    with app.app_context():
        merchant = onboard(
            sites=(("https://shop.example.com", "SHOP"), ("https://outlet.example.com", "OUTLET"))
        )
        merchants.set_site_enabled(SYSTEM, site_of(merchant, "https://outlet.example.com"), False)
        sandbox = factories.make_api_key("test", "sandbox").plaintext
        production = factories.make_api_key("live", "production").plaintext
        public_id = merchant.public_id
    mit = {"initiator": "MIT", "channel": None}
    sends = [
        (sandbox, transaction_body(public_id, transaction={"amount": 1000})),
        (sandbox, transaction_body(public_id, transaction={"amount": 250, "currency": "EUR"})),
        (
            sandbox,
            transaction_body(
                public_id, siteUrl="https://outlet.example.com", transaction={"amount": 700}
            ),
        ),
        (sandbox, transaction_body(public_id, channel="call_center", transaction={"amount": 300})),
        (
            production,
            transaction_body(
                public_id,
                **mit,
                transaction={"amount": 5000, "timestampUtc": "2026-05-02T08:00:00Z"},
            ),
        ),
        (
            production,
            declined_body(
                public_id,
                APPROVING_CARD,
                **mit,
                transaction={"amount": 1500, "timestampUtc": "2026-05-02T09:00:00Z"},
            ),
        ),
        (sandbox, declined_body(public_id, transaction={"amount": 1200, "currency": "JPY"})),
    ]
    for key, body in sends:
        assert (
            client.post("/api/v1/transactions", json=body, headers=bearer(key)).status_code == 201
        )
    fake.fail("/transmit", 400)  # the first transmit the worker sends fails for good
    run_jobs(app)
    return {"merchant": public_id}


def csv_rows(client: FlaskClient, query: str = "") -> list[dict[str, str]]:
    """Download the CSV export and return its rows."""
    response = client.get(f"{URL}.csv{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_totals_reconcile_exactly_with_the_exported_rows(app, client, login, world) -> None:
    login("viewer")
    rows = csv_rows(client)
    assert len(rows) == 7
    with app.app_context():
        totals = report.totals(report.ReportFilter())
    expected_amounts: dict[str, int] = defaultdict(int)
    for row in rows:
        expected_amounts[row["currency"]] += int(row["amount_minor"])
    assert totals.total["all"].count == len(rows)
    assert totals.total["all"].amounts == dict(expected_amounts)
    # Every category reconciles with the rows that belong to it.
    states = Counter(row["transmit_state"] for row in rows)
    assert totals.total["transmitted"].count == states["sent"]
    assert totals.total["not_sent"].count == states["not_sent"]
    assert totals.total["failed"].count == states["failed"] + sum(
        1 for row in rows if row["evaluate_state"] == "failed"
    )
    assert totals.total["approved_by_flexcharge"].count == sum(
        1 for row in rows if row["flexcharge_status"] == "APPROVED"
    )
    assert totals.total["evaluated"].count == sum(
        1 for row in rows if row["evaluate_state"] == "answered"
    )
    # The groups add up to the total, category by category, currency by currency.
    for category in report.CATEGORIES:
        assert sum(g.cells[category].count for g in totals.groups) == totals.total[category].count
    by_group = Counter((row["site"], row["descriptor"], row["profile"]) for row in rows)
    assert {(g.site, g.descriptor, g.profile): g.cells["all"].count for g in totals.groups} == dict(
        by_group
    )
    reasons = Counter(row["not_sent_reason"] for row in rows if row["not_sent_reason"])
    assert sum(count for *_, count in totals.not_sent) == sum(reasons.values()) == 2


def test_the_page_shows_the_same_totals_chart_and_rows(client, login, world) -> None:
    login("viewer")
    page = client.get(URL).get_data(as_text=True)
    total_row = re.search(r'<tr id="report-total">(.*?)</tr>', page, re.S).group(1)
    assert '<td data-category="all"><strong>7</strong>' in total_row
    assert "2.50 EUR" in page and "1,200 JPY" in page  # each currency's own decimals
    assert "Not sent, and why" in page and "outlet.example.com" in page
    assert '<svg role="img"' in page and 'class="bar-declines"' in page and "style=" not in page
    assert page.count('<tr id="transaction-') == 7
    assert "Retry now" not in page  # viewers read only


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("?profile=mit", 2),
        ("?environment=production", 2),
        ("?environment=none", 2),
        ("?status=declined", 2),
        ("?status=approved_by_flexcharge", 1),
        ("?status=not_sent", 2),
        ("?descriptor=OUTLET", 1),
        ("?since=2026-05-02&until=2026-05-02", 2),
        ("?status=failed", 1),
    ],
)
def test_filters_narrow_the_rows_the_totals_and_the_export(
    app, client, login, world, query, count
) -> None:
    login("viewer")
    assert len(csv_rows(client, query)) == count
    page = client.get(URL + query).get_data(as_text=True)
    assert page.count('<tr id="transaction-') == count
    total_row = re.search(r'<tr id="report-total">(.*?)</tr>', page, re.S)
    assert total_row and f'<td data-category="all"><strong>{count}</strong>' in total_row.group(1)


def test_merchant_and_site_filters(app, client, login, world) -> None:
    login("viewer")
    with app.app_context():
        site = site_of(customers.get_customer(world["merchant"]), "https://shop.example.com")
    assert len(csv_rows(client, f"?merchant={world['merchant']}")) == 7
    assert len(csv_rows(client, f"?site={site.id}")) == 6
    assert client.get(URL + "?merchant=ME-0000-0000-0000-0000-0000-0000").status_code == 422


@pytest.mark.parametrize(
    "query",
    [
        "?since=yesterday",
        "?status=everything",
        "?site=1e9",
        "?merchant=%00",
        "?profile=CIT",
        "?since=2026-13-45",
    ],
)
def test_refused_filters_say_why_and_never_reach_a_500(client, login, world, query) -> None:
    login("viewer")
    response = client.get(URL + query)
    assert response.status_code == 422
    assert "Check the filters" in response.get_data(as_text=True)
    assert client.get(f"{URL}.csv{query}").status_code == 422


def test_pages_are_keyset_paged_newest_first(app, client, login, world) -> None:
    login("viewer")
    with app.app_context():
        first = report.page(report.ReportFilter(), limit=3)
        second = report.page(report.ReportFilter(), before=first.next_before, limit=3)
        back = report.page(report.ReportFilter(), after=second.previous_after, limit=3)
        ids = [t.id for t in first.transactions] + [t.id for t in second.transactions]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
        assert [t.id for t in back.transactions] == [t.id for t in first.transactions]
        assert back.previous_after is None


def test_the_csv_quotes_formula_like_text(app, client, login, world) -> None:
    with app.app_context():
        key = factories.make_api_key("csv", "sandbox").plaintext
    body = transaction_body(world["merchant"], orderId="=HYPERLINK(1)")
    assert client.post("/api/v1/transactions", json=body, headers=bearer(key)).status_code == 201
    login("viewer")
    (row,) = [r for r in csv_rows(client) if r["order_id"].endswith("HYPERLINK(1)")]
    assert row["order_id"] == "'=HYPERLINK(1)"


def test_retry_now_from_the_report(app, client, login, world, fake) -> None:
    login("editor")
    page = client.get(URL + "?status=failed").get_data(as_text=True)
    delivery_id = re.search(r"/deliveries/(\d+)/retry", page).group(1)
    token = csrf_token(client, URL)
    response = client.post(
        f"/connect/flexcharge/deliveries/{delivery_id}/retry",
        data={"csrf_token": token, "next": URL + "?status=failed"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("status=failed")
    run_jobs(app)
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(Transaction)
                .where(Transaction.transmit_state == "failed")
            )
            == 0
        )
    hostile = client.post(
        f"/connect/flexcharge/deliveries/{delivery_id}/retry",
        data={"csrf_token": token, "next": "https://evil.example/"},
    )
    assert hostile.headers["Location"].endswith(URL)


def test_each_category_counts_what_its_status_filter_selects(app, world) -> None:
    """The totals fold categories in Python; the filters select them in SQL: they agree."""
    with app.app_context():
        everything = report.totals(report.ReportFilter())
        for category in report.CATEGORIES:
            if category == "all":
                continue
            filtered = report.totals(report.ReportFilter(status=category))
            assert filtered.total["all"].count == everything.total[category].count, category
            assert filtered.total["all"].amounts == everything.total[category].amounts, category
