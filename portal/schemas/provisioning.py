"""The provisioning API's models: what its requests take and what its answers hold (seed 002).

A connector is a Connect connection, so its body is ``ConnectionInput`` (the Connect form's
model) plus what only the API sets: the two meta-connector blocks and the settings operations.
``NewConnectorInput`` adds the network that picks the customer's integration;
``ConnectorUpdate`` makes name, adapter and method optional (absent keeps them; sent, they must
be valid). The OpenAPI document is generated from these very classes, so the reference cannot
drift from what the API accepts.

Merchant limits from the reference (B.6) and issue 10: name >= 3 characters, country
``^[A-Z]{2}$``, default currency ``^[A-Z]{3}$``, timezone an IANA name (default ``UTC``).
Chosen here: name <= 200 (the customer's), external id <= 255, homepage an http(s) URL <= 2000,
e-mail addresses <= 254.
"""

from __future__ import annotations

import base64
import binascii
import re
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from portal.schemas.adapters import ADAPTER_IDS
from portal.schemas.base import (
    MAPPING_KEY_MAX,
    OPTIONAL,
    REQUIRED,
    SINGLE_LINE,
    InputModel,
    bounded,
    count_between,
    explained,
    matching,
    name_text,
)
from portal.schemas.connect import (
    ADAPTER_MAX,
    CONNECTION_NAME_MAX,
    CONNECTION_NAME_MIN,
    CUSTOMER_NAME_MAX,
    EXPIRY_HOURS_MAX,
    MAPPING_ENTRIES_MAX,
    METHOD_MAX,
    NETWORK_MAX,
    RETRIES_MAX,
    ConnectionInput,
    CustomerInput,
    PostbackFormat,
    StringMapping,
    TransactionType,
    check_connection_public_id,
    known_adapter,
)

MERCHANT_NAME_MIN = 3
EXTERNAL_ID_MAX = 255
HOMEPAGE_MAX = 2000
EMAIL_MAX = 254
TIMEZONE_MAX = 64
COUNTRY_PATTERN = r"^[A-Z]{2}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
#: listConnectors pages hold at most this many connectors.
PAGE_LIMIT_MAX = 1000


# Requests ------------------------------------------------------------------------------------


@cache
def _timezones() -> frozenset[str]:
    """Return the IANA time zone names this system knows."""
    return frozenset(zoneinfo.available_timezones())


def _known_timezone(value: str) -> str:
    """Refuse a time zone that is not an IANA name such as Europe/Vienna or UTC."""
    if value not in _timezones():
        raise PydanticCustomError(
            "string_pattern_mismatch", "Timezone must be an IANA name such as Europe/Vienna."
        )
    return value


def _http_url(value: str) -> str:
    """Refuse anything but an absolute http(s) URL; keep it as written."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise PydanticCustomError(
            "url_parsing", "Homepage must be an absolute http:// or https:// URL."
        )
    return value


def _email(value: str) -> str:
    """Refuse a malformed e-mail address (no DNS lookup)."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise PydanticCustomError("email_format", "Enter a valid e-mail address.") from None
    return value


def optional_checked(max_length: int, check: Callable[[str], str], json_format: str) -> Any:
    """Return an optional single-line text type that ``check`` validates when it is given."""
    schema = {"type": ["string", "null"], "format": json_format, "maxLength": max_length}
    return Annotated[
        str | None,
        bounded(max_length),
        SINGLE_LINE,
        AfterValidator(lambda value: None if value is None else check(value)),
        OPTIONAL,
        WithJsonSchema(schema),
    ]


_Email = optional_checked(EMAIL_MAX, _email, "email")


class MerchantInput(CustomerInput):
    """Validate createMerchant's body: a customer of the key's company."""

    name: Annotated[
        name_text(CUSTOMER_NAME_MAX, min_length=MERCHANT_NAME_MIN, missing_message=None),
        Field(json_schema_extra={"minLength": MERCHANT_NAME_MIN, "maxLength": CUSTOMER_NAME_MAX}),
    ]
    external_id: Annotated[str | None, bounded(EXTERNAL_ID_MAX), SINGLE_LINE, OPTIONAL] = None
    homepage: optional_checked(HOMEPAGE_MAX, _http_url, "uri") = None
    timezone: Annotated[
        str,
        bounded(TIMEZONE_MAX),
        SINGLE_LINE,
        AfterValidator(_known_timezone),
        BeforeValidator(lambda value: "UTC" if value is None or value == "" else value),
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "maxLength": TIMEZONE_MAX,
                "default": "UTC",
                "description": "IANA time zone name; empty or null means UTC.",
            }
        ),
    ] = "UTC"
    country: Annotated[str | None, matching(COUNTRY_PATTERN), OPTIONAL] = None
    default_currency: Annotated[str | None, matching(CURRENCY_PATTERN), OPTIONAL] = None
    administrative_email: _Email = None
    risk_alert_email: _Email = None
    scheduler_alert_email: _Email = None
    technical_email: _Email = None


class RoutingMetaConnector(InputModel):
    """A classic routing meta-connector: where it routes by default (a flow of Connect)."""

    default_connector: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True),
        AfterValidator(lambda value: None if value is None else check_connection_public_id(value)),
        OPTIONAL,
        Field(
            description="Identifier (CO-…) of the default connector to route to: a connector "
            "of the same merchant and network."
        ),
    ] = None
    re_route_recurring: bool = Field(
        False, description="Whether to re-route recurring transactions to the original connector."
    )


class MultiMethodMetaConnector(InputModel):
    """A multi-method meta-connector: retries and expiry (a flow of Connect)."""

    default_action_disable_connector: bool = Field(
        False,
        description="If no action is configured (rules), the default action is to disable "
        "the connector.",
    )
    retries: count_between(0, RETRIES_MAX, "Retries") = Field(
        0, description="How many retries should be allowed if possible."
    )
    expiry: count_between(0, EXPIRY_HOURS_MAX, "Expiry") = Field(
        0, description="Expiry time in hours (0: none)."
    )


def _key_names(value: Any) -> Any:
    """Read removeSettings as a list of key names: an object's keys, as the seed types it."""
    if isinstance(value, dict):
        return list(value)
    return value


_KeyList = Annotated[
    list[Annotated[str, bounded(MAPPING_KEY_MAX), SINGLE_LINE]],
    Field(max_length=MAPPING_ENTRIES_MAX),
    BeforeValidator(_key_names),
    WithJsonSchema(
        {
            "oneOf": [
                {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": MAPPING_KEY_MAX},
                    "maxItems": MAPPING_ENTRIES_MAX,
                },
                {"type": "object", "maxProperties": MAPPING_ENTRIES_MAX},
            ],
            "description": "Keys to remove from settings: an array of key names, or an object "
            "whose keys are removed (its values are ignored).",
        }
    ),
]


class ConnectorInput(ConnectionInput):
    """A connector's body: a connection plus the meta-connector blocks and settings edits."""

    routing_meta_connector: RoutingMetaConnector | None = Field(
        None,
        description="Make this a classic routing meta-connector (adapter and method must be "
        "MetaConnector). null removes the block.",
    )
    multi_method_meta_connector: MultiMethodMetaConnector | None = Field(
        None,
        description="Make this a multi-method meta-connector (adapter and method must be "
        "MetaConnector). null removes the block.",
    )
    add_settings: StringMapping | None = Field(
        None, description="Keys merged into settings (after settings and removeSettings)."
    )
    remove_settings: _KeyList | None = None

    @field_validator("multi_method_meta_connector")
    @classmethod
    def _one_kind_only(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse a connector that would be both kinds of meta-connector."""
        if value is not None and info.data.get("routing_meta_connector") is not None:
            raise explained(
                "not_applicable",
                "A connector is a routing or a multi-method meta-connector, never both.",
            )
        return value


class NewConnectorInput(ConnectorInput):
    """createConnector's body: the connector and the network of the customer's integration."""

    network: Annotated[
        str,
        bounded(NETWORK_MAX),
        SINGLE_LINE,
        REQUIRED,
        Field(
            description="The network of the merchant's integration that holds the connector; "
            "a new integration (type Design) is created for a network the merchant has none for."
        ),
    ]


def _optional_when_absent(schema: dict[str, Any]) -> None:
    """Drop the null default pydantic writes for a field that may be absent but not null."""
    schema.pop("default", None)


def _name_when_sent(schema: dict[str, Any]) -> None:
    """Document the name of an update: optional, and bounded when sent."""
    _optional_when_absent(schema)
    schema.update(minLength=CONNECTION_NAME_MIN, maxLength=CONNECTION_NAME_MAX)


def _adapter_when_sent(schema: dict[str, Any]) -> None:
    """Document the adapter of an update: optional, and one of the registry's when sent."""
    _optional_when_absent(schema)
    schema["enum"] = list(ADAPTER_IDS)


class ConnectorUpdate(ConnectorInput):
    """updateConnector's body: absent fields keep their values; sent ones must be valid."""

    name: name_text(CONNECTION_NAME_MAX, min_length=CONNECTION_NAME_MIN, missing_message=None) = (
        Field(None, json_schema_extra=_name_when_sent)
    )  # type: ignore[assignment]
    adapter: Annotated[
        str, bounded(ADAPTER_MAX), SINGLE_LINE, AfterValidator(known_adapter), REQUIRED
    ] = Field(None, json_schema_extra=_adapter_when_sent)  # type: ignore[assignment]
    method: Annotated[str, bounded(METHOD_MAX), SINGLE_LINE, REQUIRED] = Field(
        None, json_schema_extra=_optional_when_absent
    )  # type: ignore[assignment]


_CURSOR_RE = re.compile(r"id:([0-9]{1,18})")


def encode_cursor(connection_id: int) -> str:
    """Return the opaque cursor that continues a listing after this connection."""
    return base64.urlsafe_b64encode(f"id:{connection_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the connection id inside a cursor, or raise ValueError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(cursor) from None
    match = _CURSOR_RE.fullmatch(raw)
    if match is None:
        raise ValueError(cursor)
    return int(match.group(1))


def _valid_cursor(value: str) -> str:
    """Refuse a cursor that listConnectors did not hand out."""
    try:
        decode_cursor(value)
    except ValueError:
        raise PydanticCustomError(
            "string_pattern_mismatch", "after must be the next value of a previous page."
        ) from None
    return value


class ListQuery(InputModel):
    """listConnectors' query: bare lists everything; limit and after page by keyset."""

    limit: count_between(1, PAGE_LIMIT_MAX, "limit") | None = None
    after: Annotated[str | None, bounded(64), AfterValidator(_valid_cursor), OPTIONAL] = None


# Answers -------------------------------------------------------------------------------------


class OutputModel(BaseModel):
    """Share the answers' configuration: camelCase names, as seed 002 writes them."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        serialize_by_alias=True,
        # Built on first use, like the input models (see portal.schemas.base).
        defer_build=True,
    )


class MerchantOut(OutputModel):
    """A merchant as the API answers it."""

    guid: str = Field(examples=["ME-1234-1234-1234-1234-1234-1234"])
    name: str
    external_id: str | None
    homepage: str | None
    timezone: str
    country: str | None
    default_currency: str | None
    administrative_email: str | None
    risk_alert_email: str | None
    scheduler_alert_email: str | None
    technical_email: str | None
    created_at: datetime

    @field_serializer("created_at")
    def _iso(self, value: datetime) -> str:
        """Write the time as ISO 8601 with its offset, to the second."""
        return value.isoformat(timespec="seconds")


class ConnectorConfigOut(OutputModel):
    """A connector's configuration; password and API secret masked."""

    username: str | None
    password: str | None = Field(description="Masked.")
    api_secret: str | None = Field(description="Masked.")
    extra_data: dict[str, str]
    language: str | None
    test_mode: bool
    vault: dict[str, Any]


class TerminalOut(OutputModel):
    """A terminal as the API answers it (STAN and capture reference are write-only)."""

    terminal_id: str
    disabled: bool


class RoutingMetaConnectorOut(OutputModel):
    """The routing block of a meta-connector."""

    default_connector: str | None
    re_route_recurring: bool


class MultiMethodMetaConnectorOut(OutputModel):
    """The multi-method block of a meta-connector."""

    default_action_disable_connector: bool
    retries: int
    expiry: int


class ConnectorOut(OutputModel):
    """A connector as the API answers it; secrets masked (a generated shared secret whole)."""

    guid: str = Field(examples=["CO-1234-1234-1234-1234-1234-1234"])
    name: str
    adapter: str
    method: str
    api_key: str | None = Field(description="Masked.")
    public_integration_key: str | None
    shared_secret: str | None = Field(
        description="Masked, except in the one answer that generated it."
    )
    archived: bool
    business_country: str | None
    config: ConnectorConfigOut
    created_at: datetime
    customer_profile_container: int | None
    default_risk_rule_set: int | None
    description: str | None
    disabled: bool
    disabled_transaction_types: list[TransactionType]
    merchant_guid: str
    network: str
    is_meta_connector: bool
    postback_format: PostbackFormat
    provider: str | None
    schedule_api_available: bool
    virtual_terminal_available: bool
    vt_risk_rule_set: int | None
    settings: dict[str, str]
    alias: str | None
    terminals: list[TerminalOut]
    routing_meta_connector: RoutingMetaConnectorOut | None
    multi_method_meta_connector: MultiMethodMetaConnectorOut | None

    @field_serializer("created_at")
    def _iso(self, value: datetime) -> str:
        """Write the time as ISO 8601 with its offset, to the second."""
        return value.isoformat(timespec="seconds")


class SettingItemsOut(OutputModel):
    """What each element of an array setting holds."""

    type: str
    properties: list[SettingOut] | None = None


class SettingOut(OutputModel):
    """One configuration value an adapter takes (getConnectorSettings)."""

    name: str
    type: str
    required: bool
    description: str
    enum: list[str] | None = None
    properties: list[SettingOut] | None = None
    items: SettingItemsOut | None = None


class MerchantResponse(OutputModel):
    """createMerchant's answer."""

    success: Literal[True]
    merchant: MerchantOut


class ConnectorResponse(OutputModel):
    """createConnector's, updateConnector's and getConnector's answer."""

    success: Literal[True]
    connector: ConnectorOut


class ConnectorListResponse(OutputModel):
    """listConnectors' answer; ``next`` only when paging (null on the last page)."""

    success: Literal[True]
    connectors: list[ConnectorOut]
    next: str | None = Field(
        None, description="Pass as `after` for the next page; null on the last page."
    )


class ConnectorSettingsResponse(OutputModel):
    """getConnectorSettings' answer; ``vaultConfig`` when a merchant is named."""

    success: Literal[True]
    base_config: list[SettingOut]
    vault_config: list[SettingOut] | None = None


class ProblemOut(OutputModel):
    """One problem of a refused request."""

    error_code: int
    pointer: str = Field(description="JSON pointer (RFC 6901) to the value, or empty.")
    message: str


class ErrorResponse(OutputModel):
    """Every refusal: seed 002's envelope plus the list of problems."""

    success: Literal[False]
    error_code: Literal[1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 9999]
    error_message: str
    errors: list[ProblemOut]
    request_id: str | None = Field(None, description="Only on 9999: quote it to support.")


class RateLimitedResponse(OutputModel):
    """The answer of a request over the key's rate limit (no seed error code applies)."""

    success: Literal[False]
    error_message: str
    errors: list[ProblemOut]
