"""Input models for the Connect area: customers, integrations, connections and flows.

The same models validate HTML form posts and JSON provisioning requests, so a rule
lives in one place. Fields are snake_case (the form field names); camelCase aliases
such as ``businessCountry`` or ``disabledTransactionTypes`` are accepted too, like
seed 002's JSON. Error locations always use the snake_case names
(``config.language``, ``terminals.0.terminal_id``). Unknown fields are refused:
views must pass only the model's fields (not ``csrf_token``).

Descriptions may contain line breaks; other text is single-line. An empty secret
(``None``) means "keep the stored value" on edit and, for ``shared_secret``,
"generate one" on create.

Limits taken from seed 002: connection name >= 3 characters, shared secret <= 50
characters, business country ``^[A-Z]{2}$``, language ``^[a-z]{2}$``, the 11
transaction types, the postback formats inherit/json/xml (default inherit),
retries <= 9.

Limits chosen here (the seed gives none); the constants below hold them:

==========================================  =====================================
field                                       limit
==========================================  =====================================
connection name, adapter, method, alias     100 characters
api_key, public_integration_key             255 characters
config.username, password, api_secret       255 characters
description                                 500 characters (line breaks allowed)
terminals                                   at most 100; terminal_id 1..100
config.extra_data, settings                 at most 100 entries; key 1..100,
                                            value 0..1000 characters
flow name                                   1..100 characters
flow retries                                0..9
flow expiry_hours                           0..8760 (one year; 0 = no expiry)
integration name, network                   1..100 characters
customer name                               1..200 characters
==========================================  =====================================

Messages and error codes come from ``portal.schemas.base`` (``field_errors``, ``error_code``).
"""

import secrets
import string
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, StringConstraints
from pydantic_core import PydanticCustomError

from portal.core.public_ids import CONNECTION_PREFIX, is_public_id
from portal.schemas.base import (
    MAPPING_KEY_MAX,
    MAPPING_VALUE_MAX,
    NON_FIELD_KEY,
    OPTIONAL,
    REQUIRED,
    SINGLE_LINE,
    CompanyId,
    InputModel,
    bounded,
    count_between,
    error_code,
    field_errors,
    matching,
    missing,
    multi_line,
    name_text,
    prepare_secret,
    unique,
)

__all__ = [
    "NON_FIELD_KEY",
    "ConnectionConfig",
    "ConnectionInput",
    "CustomerForm",
    "CustomerInput",
    "FlowInput",
    "IntegrationInput",
    "Terminal",
    "error_code",
    "field_errors",
    "generate_shared_secret",
]

TransactionType = Literal[
    "initial_debit",
    "initial_preauthorize",
    "capture",
    "partial_capture",
    "refund",
    "partial_refund",
    "register",
    "deregister",
    "payout",
    "recurring_debit",
    "recurring_preauthorize",
]
TRANSACTION_TYPES: tuple[str, ...] = get_args(TransactionType)

PostbackFormat = Literal["inherit", "json", "xml"]
POSTBACK_FORMATS: tuple[str, ...] = get_args(PostbackFormat)

CONNECTION_NAME_MIN = 3
CONNECTION_NAME_MAX = 100
ADAPTER_MAX = 100
METHOD_MAX = 100
API_KEY_MAX = 255
PUBLIC_INTEGRATION_KEY_MAX = 255
SHARED_SECRET_MAX = 50
DESCRIPTION_MAX = 500
ALIAS_MAX = 100
USERNAME_MAX = 255
PASSWORD_MAX = 255
API_SECRET_MAX = 255
TERMINAL_ID_MAX = 100
TERMINALS_MAX = 100
MAPPING_ENTRIES_MAX = 100
FLOW_NAME_MAX = 100
RETRIES_MAX = 9
EXPIRY_HOURS_MAX = 8760
INTEGRATION_NAME_MAX = 100
NETWORK_MAX = 100
CUSTOMER_NAME_MAX = 200

SHARED_SECRET_LENGTH = 30
_BASE62 = string.ascii_letters + string.digits

BUSINESS_COUNTRY_PATTERN = r"^[A-Z]{2}$"
LANGUAGE_PATTERN = r"^[a-z]{2}$"


# The connection's fields by kind, stated once for the Connect form and the service.
CONNECTION_TEXT_FIELDS = (
    "name",
    "adapter",
    "method",
    "api_key",
    "public_integration_key",
    "business_country",
    "description",
    "postback_format",
    "alias",
)
CONNECTION_FLAGS = ("scheduler_enabled", "virtual_terminal_enabled")
CONFIG_TEXT_FIELDS = ("username", "language")
#: Secrets in the connection's configuration: never shown again, an empty value keeps them.
CONFIG_SECRETS = ("password", "api_secret")


def generate_shared_secret() -> str:
    """Return a new random 30-character base62 shared secret."""
    return "".join(secrets.choice(_BASE62) for _ in range(SHARED_SECRET_LENGTH))


def _number_to_text(value):
    """Accept numbers as mapping values, as seed 002's settings example sends one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _unique_transaction_types(values: list[str]) -> list[str]:
    """Refuse a transaction type listed twice."""
    unique(values, "Transaction type")
    return values


def _non_empty_list(values: list[str]) -> list[str]:
    """Treat an empty list as a missing mandatory value."""
    if not values:
        raise missing()
    return values


def _check_connection_public_id(value: str) -> str:
    """Refuse anything but a connection public id."""
    if not is_public_id(value, CONNECTION_PREFIX):
        raise PydanticCustomError(
            "public_id_format",
            "Value should be a connection id like {example}",
            {"example": f"{CONNECTION_PREFIX}-1234-1234-1234-1234-1234-1234"},
        )
    return value


_MappingKey = Annotated[str, bounded(MAPPING_KEY_MAX), SINGLE_LINE]
_MappingValue = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAPPING_VALUE_MAX),
    SINGLE_LINE,
    BeforeValidator(_number_to_text),
]
StringMapping = Annotated[
    dict[_MappingKey, _MappingValue],
    Field(max_length=MAPPING_ENTRIES_MAX),
    # Seed 002 shows "extraData": null for "no values".
    BeforeValidator(lambda value: {} if value is None else value),
]

_TransactionTypeList = Annotated[list[TransactionType], AfterValidator(_unique_transaction_types)]


def _secret(max_length: int):
    """Return the type of an optional secret: empty means keep (or generate)."""
    return Annotated[SecretStr | None, BeforeValidator(prepare_secret(max_length))]


class ConnectionConfig(InputModel):
    """Validate the gateway credentials and options of a connection."""

    username: Annotated[str | None, bounded(USERNAME_MAX), SINGLE_LINE, OPTIONAL] = None
    password: _secret(PASSWORD_MAX) = None
    api_secret: _secret(API_SECRET_MAX) = None
    language: Annotated[str | None, matching(LANGUAGE_PATTERN), OPTIONAL] = None
    test_mode: bool = False
    extra_data: StringMapping = Field(default_factory=dict)


class Terminal(InputModel):
    """Validate one terminal of a connection."""

    terminal_id: Annotated[str, bounded(TERMINAL_ID_MAX), SINGLE_LINE, REQUIRED]
    disabled: bool = False


def _unique_terminal_ids(terminals: list[Terminal]) -> list[Terminal]:
    """Refuse two terminals with the same terminal id."""
    unique((terminal.terminal_id for terminal in terminals), "Terminal ID")
    return terminals


class ConnectionInput(InputModel):
    """Validate a connection (a gateway connector of an integration)."""

    name: name_text(CONNECTION_NAME_MAX, min_length=CONNECTION_NAME_MIN, missing_message=None)
    adapter: Annotated[str, bounded(ADAPTER_MAX), SINGLE_LINE, REQUIRED]
    method: Annotated[str, bounded(METHOD_MAX), SINGLE_LINE, REQUIRED]
    api_key: Annotated[str | None, bounded(API_KEY_MAX), SINGLE_LINE, OPTIONAL] = None
    public_integration_key: Annotated[
        str | None, bounded(PUBLIC_INTEGRATION_KEY_MAX), SINGLE_LINE, OPTIONAL
    ] = None
    shared_secret: _secret(SHARED_SECRET_MAX) = None
    business_country: Annotated[str | None, matching(BUSINESS_COUNTRY_PATTERN), OPTIONAL] = None
    description: Annotated[
        str | None, bounded(DESCRIPTION_MAX), AfterValidator(multi_line), OPTIONAL
    ] = None
    config: ConnectionConfig = Field(default_factory=ConnectionConfig)
    disabled_transaction_types: _TransactionTypeList = Field(default_factory=list)
    postback_format: PostbackFormat = "inherit"
    scheduler_enabled: bool = False
    virtual_terminal_enabled: bool = False
    alias: Annotated[str | None, bounded(ALIAS_MAX), SINGLE_LINE, OPTIONAL] = None
    terminals: Annotated[
        list[Terminal],
        Field(max_length=TERMINALS_MAX),
        AfterValidator(_unique_terminal_ids),
    ] = Field(default_factory=list)
    settings: StringMapping = Field(default_factory=dict)


class FlowInput(InputModel):
    """Validate a flow: the routing rule of an integration."""

    name: name_text(FLOW_NAME_MAX, missing_message=None)
    transaction_types: Annotated[_TransactionTypeList, AfterValidator(_non_empty_list)]
    default_connection_id: Annotated[
        str,
        StringConstraints(strip_whitespace=True),
        AfterValidator(_check_connection_public_id),
        REQUIRED,
    ]
    re_route_recurring: bool = False
    retries: count_between(0, RETRIES_MAX, "Retries") = 0
    expiry_hours: count_between(0, EXPIRY_HOURS_MAX, "Expiry hours") = 0


class IntegrationInput(InputModel):
    """Validate an integration: one customer connected to one network."""

    name: name_text(INTEGRATION_NAME_MAX, missing_message=None)
    network: name_text(NETWORK_MAX, label="Network", missing_message=None)


class CustomerInput(InputModel):
    """Validate a customer (a payer or merchant the platform serves)."""

    name: name_text(CUSTOMER_NAME_MAX, missing_message=None)


class CustomerForm(CustomerInput):
    """The Add customer form: the customer and the company whose API keys will see it."""

    company_id: CompanyId
