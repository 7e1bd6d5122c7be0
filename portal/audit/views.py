"""System > Audit log: every change and sign-in, filtered and paged by keyset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, request
from werkzeug.datastructures import MultiDict

from portal.services import audit
from portal.web.access import admin_required
from portal.web.htmx import render_page_or_partial

bp = Blueprint("audit", __name__, url_prefix="/system/audit")


def parse_date(value: str | None) -> datetime | None:
    """Read a YYYY-MM-DD filter value as the start of that UTC day; ignore bad input."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def filters_from(args: MultiDict) -> audit.AuditFilter:
    """Read the audit log's filters from the query string."""
    until = parse_date(args.get("until"))
    return audit.AuditFilter(
        actor=args.get("actor") or None,
        action=args.get("action") or None,
        object_type=args.get("object_type") or None,
        since=parse_date(args.get("since")),
        # The "until" day is included in full.
        until=until + timedelta(days=1) if until else None,
    )


@bp.get("/")
@admin_required
def index():
    """List audit events, newest first, with filters."""
    args = request.args
    page = audit.list_events(
        filters_from(args),
        before_id=args.get("before", type=int),
        limit=current_app.config["AUDIT_PAGE_SIZE"],
    )
    query = {key: value for key, value in args.items() if key != "before" and value}
    return render_page_or_partial(
        "audit/index.html",
        "audit/_events.html",
        page=page,
        query=query,
        actions=audit.distinct_values("action"),
        object_types=audit.distinct_values("object_type"),
        actors=audit.distinct_values("actor_label"),
    )
