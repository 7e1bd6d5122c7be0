"""Navigation and formatting helpers available in every template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, request, url_for
from flask_login import current_user

from portal.models import AuditEvent, Environment
from portal.services import account_settings, audit
from portal.services.listing import Sort
from portal.web.access import ADMINS, WRITERS
from portal.web.registry import providers


@dataclass(frozen=True)
class NavItem:
    """One link of the side navigation."""

    label: str
    endpoint: str
    section: str
    roles: tuple[str, ...] | None = None  # None: every signed-in user

    @property
    def url(self) -> str:
        """Return the link target."""
        return url_for(self.endpoint)

    #: Blueprints whose pages belong to this item besides its own.
    also: tuple[str, ...] = ()

    @property
    def current(self) -> bool:
        """Tell whether the page shown belongs to this item."""
        blueprint = (request.endpoint or "").split(".")[0]
        return blueprint in (self.endpoint.split(".")[0], *self.also)


NAVIGATION = (
    NavItem("Connect", "connect.index", "Connect"),
    NavItem("FlexCharge report", "flexcharge.report_page", "Connect"),
    NavItem("Integrations", "api_keys.index", "Account Settings", also=("auto_retries",)),
    NavItem("Companies", "companies.index", "Account Settings", ADMINS),
    NavItem("Account settings", "settings.index", "Account Settings", ADMINS),
    NavItem("External Integrations", "external_integrations.index", "System", ADMINS),
    NavItem("Users", "users.index", "System", ADMINS),
    NavItem("Audit log", "audit.index", "System", ADMINS),
)


def navigation() -> list[tuple[str, list[NavItem]]]:
    """Return the sections and links the signed-in user may use, in order."""
    if not current_user.is_authenticated:
        return []
    sections: dict[str, list[NavItem]] = {}
    for item in NAVIGATION:
        if item.roles is None or current_user.has_role(*item.roles):
            sections.setdefault(item.section, []).append(item)
    return list(sections.items())


def trail() -> list[tuple[str, str | None]]:
    """Return the breadcrumbs of the navigation item shown: its section, then the item.

    The section is plain text (it is not a page); pages add their own crumbs after these,
    and the last crumb is the page itself.
    """
    for section, items in navigation():
        for item in items:
            if item.current:
                return [(section, None), (item.label, item.url)]
    return []


def as_utc(value: datetime) -> datetime:
    """Return the time as an aware UTC datetime (SQLite hands back naive UTC values)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: datetime | None) -> str:
    """Show a UTC time the same way everywhere."""
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def format_exact(value: datetime | None) -> str:
    """Show a UTC time to the second, for the hover text of a relative time."""
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def relative_time(value: datetime | None, now: datetime | None = None) -> str:
    """Say how long ago a time was ("just now", "5 min ago", "3 days ago", "12 Mar 2025")."""
    if value is None:
        return "—"
    value = as_utc(value)
    now = now or datetime.now(UTC)
    seconds = (now - value).total_seconds()
    if seconds < 0:
        return value.strftime("%d %b %Y %H:%M")
    for limit, size, unit in RELATIVE_STEPS:
        if seconds < limit:
            if not size:
                return "just now"
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return value.strftime("%d %b %Y")


# (below this many seconds, count in units of this many seconds, unit name); the last step
# beyond a month shows the date itself.
RELATIVE_STEPS = (
    (45, 0, ""),
    (3600, 60, "min"),
    (86400, 3600, "hour"),
    (86400 * 30, 86400, "day"),
)


def sort_url(key: str, sort: Sort) -> str:
    """Return this page's URL sorted by a column: a first click ascends, the next descends.

    The search stays; the page cursors go, since a new order starts from its first page.
    """
    args = {name: value for name, value in request.args.items() if name not in ("after", "before")}
    args["sort"] = sort.toggled(key)
    return url_for(request.endpoint or "home.index", **(request.view_args or {}), **args)


def can_write() -> bool:
    """Tell whether the signed-in user may change data (admins and editors)."""
    return current_user.is_authenticated and current_user.has_role(*WRITERS)


ENVIRONMENT_CHOICES = Environment.choices()


def audit_action(event: AuditEvent) -> str:
    """Name an audit event's action for people ("Stripe integration added")."""
    labels = {slug: provider.label for slug, provider in providers().items()}
    return audit.action_name(event.action, event.changes, labels)


def register(app: Flask) -> None:
    """Install the helpers on the app."""
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["exact_time"] = format_exact
    app.jinja_env.filters["ago"] = relative_time
    app.jinja_env.globals.update(
        navigation=navigation,
        trail=trail,
        sort_url=sort_url,
        can_write=can_write,
        # Called by the templates that need it, so pages that do not show the tab (error
        # pages among them) never ask the database.
        scheduler_enabled=account_settings.scheduler_enabled,
        environments=ENVIRONMENT_CHOICES,
        audit_action=audit_action,
        audit_action_code=audit.action_name,
        audit_outcome=audit.outcome_name,
        audit_changes=audit.changes_of,
        audit_object=audit.object_name,
    )
