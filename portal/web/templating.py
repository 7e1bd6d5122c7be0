"""Navigation and formatting helpers available in every template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, request, url_for
from flask_login import current_user

from portal.models import Environment
from portal.services import account_settings
from portal.web.access import ADMINS, WRITERS


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


def format_datetime(value: datetime | None) -> str:
    """Show a UTC time the same way everywhere."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def can_write() -> bool:
    """Tell whether the signed-in user may change data (admins and editors)."""
    return current_user.is_authenticated and current_user.has_role(*WRITERS)


ENVIRONMENT_CHOICES = Environment.choices()


def register(app: Flask) -> None:
    """Install the helpers on the app."""
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.globals.update(
        navigation=navigation,
        can_write=can_write,
        # Called by the templates that need it, so pages that do not show the tab (error
        # pages among them) never ask the database.
        scheduler_enabled=account_settings.scheduler_enabled,
        environments=ENVIRONMENT_CHOICES,
    )
