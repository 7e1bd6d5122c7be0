"""Input models of the FlexCharge onboarding forms: profiles, credentials and sites.

Limits from reference A.1: the MID and a Site ID are GUIDs; the App key, App secret and
Tokenization key are strings (at most 255 characters here); the webhook signing key is the
base64 subscriber key of reference A.7. An empty secret on edit keeps the stored one.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, SecretStr

from portal.core.public_ids import CUSTOMER_PREFIX, is_public_id
from portal.models import Profile, ProfileMode
from portal.schemas.base import (
    OPTIONAL,
    InputModel,
    choice,
    explained,
    prepare_secret,
    required,
    single_line,
)

SECRET_MAX = 255
APP_KEY_MAX = 255
SITE_URL_MAX = 255
DESCRIPTOR_MAX = 100
GUID_RE = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
GUID_EXAMPLE = "0ba84f6e-1b2c-4d5e-8f90-123456789abc"

ModeChoice = choice((mode.value for mode in ProfileMode), "Choose Off, Sandbox or Production.")


def bounded_text(label: str, max_length: int) -> AfterValidator:
    """Refuse text longer than the limit, naming the field."""

    def check(value: str | None) -> str | None:
        """Refuse a value over the limit."""
        if value is not None and len(value) > max_length:
            raise explained("string_too_long", f"{label} must be at most {max_length} characters.")
        return value

    return AfterValidator(check)


def guid(label: str) -> AfterValidator:
    """Refuse a value that is not a GUID, naming the field and showing the shape."""

    def check(value: str | None) -> str | None:
        """Refuse a value that is not a GUID; store it in lower case."""
        if value is not None and not GUID_RE.fullmatch(value):
            raise explained(
                "string_pattern_mismatch", f"{label} must be a GUID like {GUID_EXAMPLE}."
            )
        return value.lower() if value else value

    return AfterValidator(check)


def _webhook_key(value: SecretStr | None) -> SecretStr | None:
    """Refuse a webhook signing key that is not base64 (FlexCharge signs with its bytes)."""
    if value is None:
        return None
    try:
        decoded = base64.b64decode(value.get_secret_value(), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if not decoded:
        raise explained(
            "string_pattern_mismatch",
            "Webhook signing key must be the base64 key shown in FlexCharge's portal.",
        )
    return value


Secret = Annotated[SecretStr | None, BeforeValidator(prepare_secret(SECRET_MAX))]


class ProfilesInput(InputModel):
    """The three independent profiles, each Off, Sandbox or Production."""

    cit_website: ModeChoice
    cit_call_center: ModeChoice
    mit: ModeChoice


class CredentialsChange(InputModel):
    """One environment's credential set; an empty secret keeps the stored one."""

    mid: Annotated[str, required("Enter the MID."), AfterValidator(single_line), guid("MID")]
    app_key: Annotated[
        str,
        required("Enter the App key."),
        AfterValidator(single_line),
        bounded_text("App key", APP_KEY_MAX),
    ]
    app_secret: Secret = None
    tokenization_key: Secret = None
    webhook_key: Annotated[Secret, AfterValidator(_webhook_key)] = None
    site_id: Annotated[str | None, OPTIONAL, AfterValidator(single_line), guid("Site ID")] = None


class CredentialsInput(CredentialsChange):
    """A first credential set: the App secret is required."""

    app_secret: Annotated[
        SecretStr, BeforeValidator(prepare_secret(SECRET_MAX)), required("Enter the App secret.")
    ]


def site_host(url: str) -> str | None:
    """Return the lower-case host of an http(s) URL, or None when it has none."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return host.rstrip(".").lower() or None


def _site_url(value: str) -> str:
    """Refuse anything but an http(s) URL with a host name."""
    if site_host(value) is None or any(ch.isspace() for ch in value):
        raise explained(
            "string_pattern_mismatch",
            "Site URL must be a web address like https://shop.example.com.",
        )
    return value


def _descriptor(value: Any) -> Any:
    """Collapse runs of spaces in a descriptor, as it shows on a card statement."""
    return " ".join(value.split()) if isinstance(value, str) else value


class SiteInput(InputModel):
    """A merchant's website: its URL, its descriptor and an optional FlexCharge Site ID."""

    url: Annotated[
        str,
        required("Enter the site URL."),
        AfterValidator(single_line),
        bounded_text("Site URL", SITE_URL_MAX),
        AfterValidator(_site_url),
    ]
    descriptor: Annotated[
        str,
        BeforeValidator(_descriptor),
        required("Enter the descriptor."),
        AfterValidator(single_line),
        bounded_text("Descriptor", DESCRIPTOR_MAX),
    ]
    site_id: Annotated[str | None, OPTIONAL, AfterValidator(single_line), guid("Site ID")] = None
    enabled: bool = True


#: The report's status filter: the payment's outcome, or where its FlexCharge calls stand.
REPORT_STATUSES = (
    "approved",
    "declined",
    "transmitted",
    "evaluated",
    "approved_by_flexcharge",
    "not_sent",
    "pending",
    "failed",
)


def _optional_id(value: Any) -> Any:
    """Read an optional numeric id from a query string; anything else is not in the list."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise explained("value_error", "Choose a site from the list.")
    return int(text)


def _optional_merchant(value: str | None) -> str | None:
    """Refuse anything but a merchant's public id."""
    if value is not None and not is_public_id(value, CUSTOMER_PREFIX):
        raise explained("value_error", "Choose a merchant from the list.")
    return value


def _optional_date(value: Any) -> Any:
    """Read an optional YYYY-MM-DD date."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise explained("date_parsing", "Enter a date as YYYY-MM-DD.") from None


def one_of(options, what: str) -> AfterValidator:
    """Refuse a filter value that is not one of its options (blank is "any")."""
    allowed = frozenset(options)

    def check(value: str | None) -> str | None:
        """Refuse a value that is not an option."""
        if value is not None and value not in allowed:
            raise explained("literal_error", f"Choose a {what} from the list.")
        return value

    return AfterValidator(check)


class ReportFilters(InputModel):
    """The FlexCharge report's filters; each is optional."""

    merchant: Annotated[str | None, OPTIONAL, AfterValidator(_optional_merchant)] = None
    site: Annotated[int | None, BeforeValidator(_optional_id)] = None
    descriptor: Annotated[
        str | None, OPTIONAL, AfterValidator(single_line), bounded_text("Descriptor", 100)
    ] = None
    profile: Annotated[str | None, OPTIONAL, one_of((p.value for p in Profile), "profile")] = None
    environment: Annotated[
        str | None, OPTIONAL, one_of(("sandbox", "production", "none"), "environment")
    ] = None
    status: Annotated[str | None, OPTIONAL, one_of(REPORT_STATUSES, "status")] = None
    since: Annotated[date | None, BeforeValidator(_optional_date)] = None
    until: Annotated[date | None, BeforeValidator(_optional_date)] = None
