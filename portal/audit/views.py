"""System > Audit log: every change and sign-in, filtered and paged by keyset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, request

from portal.services import audit
from portal.web.access import admin_required
from portal.web.htmx import render_page_or_partial
from portal.web.query import query_id, query_text

bp = Blueprint("audit", __name__, url_prefix="/system/audit")


def parse_date(value: str | None) -> datetime | None:
    """Read a YYYY-MM-DD filter value as the start of that UTC day; ignore bad input."""
    try:
        return datetime.strptime(value or "", "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def day_after(day: datetime | None) -> datetime | None:
    """Return the start of the next day (the "until" day is included in full), if any."""
    try:
        return day + timedelta(days=1) if day else None
    except OverflowError:
        return None  # 9999-12-31: no end at all


def filters_from() -> audit.AuditFilter:
    """Read the audit log's filters from the query string."""
    return audit.AuditFilter(
        actor=query_text("actor") or None,
        action=query_text("action") or None,
        object_type=query_text("object_type") or None,
        since=parse_date(query_text("since")),
        until=day_after(parse_date(query_text("until"))),
    )


@bp.get("/")
@admin_required
def index():
    """List audit events, newest first, with filters."""
    page = audit.list_events(
        filters_from(),
        before_id=query_id("before"),
        limit=current_app.config["AUDIT_PAGE_SIZE"],
    )
    query = {key: value for key, value in request.args.items() if key != "before" and value}
    return render_page_or_partial(
        "audit/index.html",
        "audit/_events.html",
        page=page,
        query=query,
        actions=audit.distinct_values("action"),
        object_types=audit.distinct_values("object_type"),
        actors=audit.distinct_values("actor_label"),
    )
