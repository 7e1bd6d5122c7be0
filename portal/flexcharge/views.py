"""Connect > "FlexCharge report": filters, totals, pages, a chart and a streamed CSV export.

Everyone signed in reads the report; admins and editors may "Retry now" a failed delivery.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context, url_for
from werkzeug.datastructures import MultiDict

from portal.auth.views import safe_next
from portal.jobs import job_queue
from portal.models import Environment, Profile, Transaction
from portal.schemas.flexcharge import ReportFilters
from portal.services import customers, deliveries
from portal.services import flexcharge_report as report
from portal.services.errors import NotFound
from portal.services.transactions import not_sent_reason
from portal.web.access import writer_required
from portal.web.actor import current_actor
from portal.web.forms import Form, read
from portal.web.htmx import render_page_or_partial
from portal.web.responses import attempt

bp = Blueprint("flexcharge", __name__, url_prefix="/connect/flexcharge")

FILTER_FIELDS = (
    "merchant",
    "site",
    "descriptor",
    "profile",
    "environment",
    "status",
    "since",
    "until",
)
CSV_COLUMNS = (
    "id",
    "received_at",
    "occurred_at",
    "merchant",
    "order_id",
    "transaction_id",
    "status",
    "amount_minor",
    "currency",
    "initiator",
    "channel",
    "profile",
    "site",
    "descriptor",
    "card_brand",
    "card_last4",
    "environment",
    "transmit_state",
    "transmit_id",
    "not_sent_reason",
    "evaluate_state",
    "flexcharge_status",
    "order_session_key",
    "order_status",
    "error",
)


def _cursor(name: str) -> int | None:
    """Read a pagination cursor from the query string (ignore anything but a number)."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _filters() -> tuple[Form[ReportFilters], report.ReportFilter | None]:
    """Read the filters from the query string; None when one is refused."""
    posted = MultiDict({name: request.args.get(name, "") for name in FILTER_FIELDS})
    form = read(ReportFilters, posted)
    if not form.valid:
        return form, None
    data = form.model
    customer_id = None
    if data.merchant:
        try:
            customer_id = customers.get_customer(data.merchant).id
        except NotFound:
            form.errors["merchant"] = "Choose a merchant from the list."
            return form, None
    return form, report.ReportFilter(
        customer_id=customer_id,
        site_id=data.site,
        descriptor=data.descriptor,
        profile=data.profile,
        environment=data.environment,
        status=data.status,
        since=data.since,
        until=data.until,
    )


def _query_args(form: Form) -> dict[str, str]:
    """Return the filters as query arguments, for links that keep them."""
    return {
        name: str(form.values.get(name) or "") for name in FILTER_FIELDS if form.values.get(name)
    }


def _report_context(form: Form, filters: report.ReportFilter | None) -> dict:
    """Return what the report page shows whatever the filters: the form and its choices."""
    return {
        "form": form,
        "filters_query": _query_args(form),
        "merchants": report.merchants_for_filter(),
        "sites": report.sites_for_filter(filters.customer_id if filters else None),
        "profiles": [(profile.value, profile.label) for profile in Profile],
        "environments": [*Environment.choices(), ("none", "Not sent")],
        "statuses": [(key, label) for key, (label, _) in report.STATUS_FILTERS.items()],
        "categories": [(key, label) for key, (label, _) in report.CATEGORIES.items()],
        "format_amount": report.format_amount,
        "not_sent_reason": not_sent_reason,
    }


@bp.get("/report")
def report_page():
    """Show the report: filters, totals by site/descriptor/profile, the chart and a page of rows."""
    form, filters = _filters()
    context = _report_context(form, filters)
    templates = ("flexcharge/report.html", "flexcharge/_results.html")
    if filters is None:
        return render_page_or_partial(*templates, status=422, **context)
    return render_page_or_partial(
        *templates,
        totals=report.totals(filters),
        chart=chart(report.per_day(filters)),
        page=report.page(filters, before=_cursor("before"), after=_cursor("after")),
        **context,
    )


def chart(days: list[report.Day], height: int = 120, bar: int = 8, gap: int = 4) -> dict:
    """Return the bars of the per-day chart, sized on the server (no script, no style)."""
    peak = max([1, *(day.declines for day in days), *(day.approvals for day in days)])
    bars = []
    for index, day in enumerate(days):
        x = index * (2 * bar + gap)
        declines = round(day.declines / peak * height)
        approvals = round(day.approvals / peak * height)
        bars.append(
            {
                "day": day,
                "x": x,
                "declines": {"y": height - declines, "height": declines},
                "approvals": {"x": x + bar, "y": height - approvals, "height": approvals},
            }
        )
    return {
        "bars": bars,
        "width": max(1, len(days) * (2 * bar + gap)),
        "height": height,
        "bar": bar,
        "peak": peak,
    }


def _csv_chunks(filters: report.ReportFilter) -> Iterator[str]:
    """Yield the filtered transactions as CSV in chunks of about 64 KB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for transaction in report.rows_for_export(filters):
        writer.writerow([_cell(value) for value in _csv_row(transaction)])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.get("/report.csv")
def report_csv():
    """Stream the filtered transactions as CSV, a batch at a time."""
    form, filters = _filters()
    if filters is None:
        message = "The filters are invalid: " + " ".join(form.errors.values()) + "\n"
        return Response(message, status=422, mimetype="text/plain")
    response = Response(stream_with_context(_csv_chunks(filters)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="flexcharge-report.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv_row(transaction: Transaction) -> list:
    """Return one transaction as a CSV row (amounts in minor units, exactly as stored)."""
    site = transaction.site.url if transaction.site else transaction.site_url
    failed = next((d.last_error for d in transaction.deliveries if d.state == "failed"), None)
    return [
        transaction.id,
        transaction.received_at.isoformat(),
        transaction.occurred_at.isoformat(),
        transaction.customer.public_id,
        transaction.order_id,
        transaction.external_id,
        transaction.status,
        transaction.amount,
        transaction.currency,
        transaction.initiator,
        transaction.channel,
        transaction.profile,
        site,
        transaction.descriptor,
        transaction.card_brand,
        transaction.card_last4,
        transaction.environment,
        transaction.transmit_state,
        transaction.transmit_id,
        not_sent_reason(transaction.transmit_reason, transaction.profile, site),
        transaction.evaluate_state,
        transaction.evaluate_status,
        transaction.order_session_key,
        transaction.order_status,
        failed or (transaction.evaluate_reason if transaction.evaluate_state == "failed" else None),
    ]


def _cell(value) -> str:
    """Render a CSV cell; text a spreadsheet would run as a formula is quoted with a '."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@bp.post("/deliveries/<int:delivery_id>/retry")
@writer_required
def retry_delivery(delivery_id: int):
    """Give a failed delivery a new round of attempts, starting now."""
    delivery = deliveries.get_delivery(delivery_id)
    back = safe_next(request.form.get("next")) or url_for("flexcharge.report_page")
    return attempt(
        lambda: deliveries.retry_now(current_actor(), delivery, job_queue().enqueue_delivery),
        f"The {delivery.kind} of order {delivery.transaction.order_id} was queued again.",
        back,
    )
