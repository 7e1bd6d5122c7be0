"""Input models for the Connect area: customers, integrations, connections and flows.

The same models validate HTML form posts and JSON provisioning requests, so a rule
lives in one place. Fields are snake_case (the form field names); camelCase aliases
such as ``businessCountry`` or ``disabledTransactionTypes`` are accepted too, like
seed 002's JSON. Error locations always use the snake_case names
(``config.language``, ``terminals.0.terminal_id``). Unknown fields are refused:
views must pass only the model's fields (not ``csrf_token``).

Every string is stripped; an optional string that is empty after stripping becomes
``None``, and a required one that is empty counts as missing. Single-line text
refuses control characters; descriptions may contain line breaks. An empty secret
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

``error_code`` maps a ``ValidationError`` to one seed 002 error code; when several
errors occur the most fundamental one wins, in this order:

======  ==============================================================================
code    pydantic error types
======  ==============================================================================
1005    ``missing`` (absent, null, blank or an empty required list)
1006    ``extra_forbidden`` (a parameter this request does not take)
1003    ``string_pattern_mismatch``, ``public_id_format``, ``*_type``, ``*_parsing``,
        ``int_from_float``, ``json_invalid`` (malformed value or wrong JSON type)
1004    ``invalid_characters`` (control characters in text)
1002    ``literal_error``, ``enum``, ``greater_than[_equal]``, ``less_than[_equal]``,
        ``string_too_short``, ``string_too_long``, ``too_short``, ``too_long``,
        ``duplicate_value`` (well-formed but outside the allowed values)
1001    anything else
======  ==============================================================================
"""

import secrets
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from portal.public_ids import CONNECTION_PREFIX, is_public_id

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
MAPPING_KEY_MAX = 100
MAPPING_VALUE_MAX = 1000
FLOW_NAME_MAX = 100
RETRIES_MAX = 9
EXPIRY_HOURS_MAX = 8760
INTEGRATION_NAME_MAX = 100
NETWORK_MAX = 100
CUSTOMER_NAME_MAX = 200

SHARED_SECRET_LENGTH = 30
_BASE62 = string.ascii_letters + string.digits

NON_FIELD_KEY = "__all__"

BUSINESS_COUNTRY_PATTERN = r"^[A-Z]{2}$"
LANGUAGE_PATTERN = r"^[a-z]{2}$"


def generate_shared_secret() -> str:
    """Return a new random 30-character base62 shared secret."""
    return "".join(secrets.choice(_BASE62) for _ in range(SHARED_SECRET_LENGTH))


def _missing() -> PydanticCustomError:
    """Build the error that marks a mandatory value as absent."""
    return PydanticCustomError("missing", "Field required")


def _require_text(value: Any) -> Any:
    """Treat null and blank text as a missing mandatory value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _missing()
    return value


def _blank_to_none(value: Any) -> Any:
    """Turn blank optional text into None so "not given" has a single spelling."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _refuse_control_characters(value: str | None, allowed: frozenset[str]) -> str | None:
    """Refuse control characters other than the allowed ones."""
    if value is not None and any(
        ch not in allowed and unicodedata.category(ch) == "Cc" for ch in value
    ):
        raise PydanticCustomError("invalid_characters", "Value contains invalid characters")
    return value


def _single_line(value: str | None) -> str | None:
    """Refuse control characters, line breaks included."""
    return _refuse_control_characters(value, frozenset())


def _multi_line(value: str | None) -> str | None:
    """Refuse control characters except line breaks and tabs."""
    return _refuse_control_characters(value, frozenset("\n\r\t"))


def _prepare_secret(max_length: int) -> Callable[[Any], Any]:
    """Build the pre-check of a secret: strip, blank means None, bounded length."""

    def prepare(value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        if len(value) > max_length:
            # Same error type as plain text so messages and error codes stay uniform.
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": max_length},
            )
        return value

    return prepare


def _number_to_text(value: Any) -> Any:
    """Accept numbers as mapping values, as seed 002's settings example sends one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _reject_bool(value: Any) -> Any:
    """Refuse booleans where a count is expected rather than read them as 0 or 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _unique(values: Iterable[str], what: str) -> None:
    """Refuse a collection that names the same value twice."""
    duplicates = [value for value, count in Counter(values).items() if count > 1]
    if duplicates:
        raise PydanticCustomError(
            "duplicate_value",
            "{what} listed more than once: {duplicates}.",
            {"what": what, "duplicates": ", ".join(duplicates)},
        )


def _unique_transaction_types(values: list[str]) -> list[str]:
    """Refuse a transaction type listed twice."""
    _unique(values, "Transaction type")
    return values


def _non_empty_list(values: list[str]) -> list[str]:
    """Treat an empty list as a missing mandatory value."""
    if not values:
        raise _missing()
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


_REQUIRED = BeforeValidator(_require_text)
_OPTIONAL = BeforeValidator(_blank_to_none)
_SINGLE_LINE = AfterValidator(_single_line)


def _bounded(max_length: int, min_length: int = 1) -> StringConstraints:
    """Return the strip-and-length constraints of a text field."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


def _matching(pattern: str) -> StringConstraints:
    """Return strip-and-pattern constraints; the pattern alone bounds the length."""
    # No max_length here: "AUT" must fail the format check, not a length check.
    return StringConstraints(strip_whitespace=True, pattern=pattern)


_MappingKey = Annotated[str, _bounded(MAPPING_KEY_MAX), _SINGLE_LINE]
_MappingValue = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAPPING_VALUE_MAX),
    _SINGLE_LINE,
    BeforeValidator(_number_to_text),
]
StringMapping = Annotated[
    dict[_MappingKey, _MappingValue],
    Field(max_length=MAPPING_ENTRIES_MAX),
    # Seed 002 shows "extraData": null for "no values".
    BeforeValidator(lambda value: {} if value is None else value),
]

_TransactionTypeList = Annotated[list[TransactionType], AfterValidator(_unique_transaction_types)]


class _InputModel(BaseModel):
    """Share the strict input configuration of every Connect model."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        loc_by_alias=False,
    )


class ConnectionConfig(_InputModel):
    """Validate the gateway credentials and options of a connection."""

    username: Annotated[str | None, _bounded(USERNAME_MAX), _SINGLE_LINE, _OPTIONAL] = None
    password: Annotated[SecretStr | None, BeforeValidator(_prepare_secret(PASSWORD_MAX))] = None
    api_secret: Annotated[SecretStr | None, BeforeValidator(_prepare_secret(API_SECRET_MAX))] = None
    language: Annotated[str | None, _matching(LANGUAGE_PATTERN), _OPTIONAL] = None
    test_mode: bool = False
    extra_data: StringMapping = Field(default_factory=dict)


class Terminal(_InputModel):
    """Validate one terminal of a connection."""

    terminal_id: Annotated[str, _bounded(TERMINAL_ID_MAX), _SINGLE_LINE, _REQUIRED]
    disabled: bool = False


def _unique_terminal_ids(terminals: list[Terminal]) -> list[Terminal]:
    """Refuse two terminals with the same terminal id."""
    _unique((terminal.terminal_id for terminal in terminals), "Terminal ID")
    return terminals


class ConnectionInput(_InputModel):
    """Validate a connection (a gateway connector of an integration)."""

    name: Annotated[
        str, _bounded(CONNECTION_NAME_MAX, CONNECTION_NAME_MIN), _SINGLE_LINE, _REQUIRED
    ]
    adapter: Annotated[str, _bounded(ADAPTER_MAX), _SINGLE_LINE, _REQUIRED]
    method: Annotated[str, _bounded(METHOD_MAX), _SINGLE_LINE, _REQUIRED]
    api_key: Annotated[str | None, _bounded(API_KEY_MAX), _SINGLE_LINE, _OPTIONAL] = None
    public_integration_key: Annotated[
        str | None, _bounded(PUBLIC_INTEGRATION_KEY_MAX), _SINGLE_LINE, _OPTIONAL
    ] = None
    shared_secret: Annotated[
        SecretStr | None, BeforeValidator(_prepare_secret(SHARED_SECRET_MAX))
    ] = None
    business_country: Annotated[str | None, _matching(BUSINESS_COUNTRY_PATTERN), _OPTIONAL] = None
    description: Annotated[
        str | None, _bounded(DESCRIPTION_MAX), AfterValidator(_multi_line), _OPTIONAL
    ] = None
    config: ConnectionConfig = Field(default_factory=ConnectionConfig)
    disabled_transaction_types: _TransactionTypeList = Field(default_factory=list)
    postback_format: PostbackFormat = "inherit"
    scheduler_enabled: bool = False
    virtual_terminal_enabled: bool = False
    alias: Annotated[str | None, _bounded(ALIAS_MAX), _SINGLE_LINE, _OPTIONAL] = None
    terminals: Annotated[
        list[Terminal],
        Field(max_length=TERMINALS_MAX),
        AfterValidator(_unique_terminal_ids),
    ] = Field(default_factory=list)
    settings: StringMapping = Field(default_factory=dict)


class FlowInput(_InputModel):
    """Validate a flow: the routing rule of an integration."""

    name: Annotated[str, _bounded(FLOW_NAME_MAX), _SINGLE_LINE, _REQUIRED]
    transaction_types: Annotated[_TransactionTypeList, AfterValidator(_non_empty_list)]
    default_connection_id: Annotated[
        str,
        StringConstraints(strip_whitespace=True),
        AfterValidator(_check_connection_public_id),
        _REQUIRED,
    ]
    re_route_recurring: bool = False
    retries: Annotated[int, Field(ge=0, le=RETRIES_MAX), BeforeValidator(_reject_bool)] = 0
    expiry_hours: Annotated[
        int, Field(ge=0, le=EXPIRY_HOURS_MAX), BeforeValidator(_reject_bool)
    ] = 0


class IntegrationInput(_InputModel):
    """Validate an integration: one customer connected to one network."""

    name: Annotated[str, _bounded(INTEGRATION_NAME_MAX), _SINGLE_LINE, _REQUIRED]
    network: Annotated[str, _bounded(NETWORK_MAX), _SINGLE_LINE, _REQUIRED]


class CustomerInput(_InputModel):
    """Validate a customer (a payer or merchant the platform serves)."""

    name: Annotated[str, _bounded(CUSTOMER_NAME_MAX), _SINGLE_LINE, _REQUIRED]


_LABELS: Mapping[str, str] = {
    "name": "Name",
    "adapter": "Adapter",
    "method": "Method",
    "api_key": "API key",
    "public_integration_key": "Public integration key",
    "shared_secret": "Shared secret",
    "business_country": "Business country",
    "description": "Description",
    "config": "Configuration",
    "username": "Username",
    "password": "Password",
    "api_secret": "API secret",
    "language": "Language",
    "test_mode": "Test mode",
    "extra_data": "Extra data",
    "disabled_transaction_types": "Disabled transaction types",
    "postback_format": "Postback format",
    "scheduler_enabled": "Scheduler",
    "virtual_terminal_enabled": "Virtual terminal",
    "alias": "Alias",
    "terminals": "Terminals",
    "terminal_id": "Terminal ID",
    "disabled": "Disabled",
    "settings": "Settings",
    "transaction_types": "Transaction types",
    "default_connection_id": "Default connection",
    "re_route_recurring": "Re-route recurring",
    "retries": "Retries",
    "expiry_hours": "Expiry hours",
    "network": "Network",
}

_MAPPING_FIELDS = frozenset({"extra_data", "settings"})
_TRANSACTION_TYPE_FIELDS = frozenset({"disabled_transaction_types", "transaction_types"})
_RANGES: Mapping[str, tuple[int, int]] = {
    "retries": (0, RETRIES_MAX),
    "expiry_hours": (0, EXPIRY_HOURS_MAX),
}
_PATTERN_MESSAGES: Mapping[str, str] = {
    "business_country": ("Business country must be two upper-case letters (ISO 3166-1 alpha-2)."),
    "language": "Language must be two lower-case letters (ISO 639-1).",
}
_MISSING_MESSAGES: Mapping[str, str] = {
    "transaction_types": "Select at least one transaction type.",
}


def _label(field: str) -> str:
    """Return the human label of a field name."""
    return _LABELS.get(field, field.replace("_", " ").capitalize())


def _shorten(value: Any, limit: int = 40) -> str:
    """Render an offending input briefly so a message stays one short line."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mapping_message(label: str, entry: str, error: Mapping[str, Any]) -> str:
    """Describe an error inside a key/value field such as settings or extra data."""
    ctx = error.get("ctx") or {}
    is_key = error["loc"][-1] == "[key]"
    kind = error["type"]
    if is_key:
        if kind == "invalid_characters":
            return f"{label} keys must not contain control characters."
        return f"{label} keys must be 1 to {MAPPING_KEY_MAX} characters."
    where = f"{label} value for {_shorten(entry)}"
    if kind == "string_too_long":
        limit = ctx.get("max_length", MAPPING_VALUE_MAX)
        return f"{where} must be at most {limit} characters."
    if kind == "invalid_characters":
        return f"{where} contains invalid characters."
    return f"{where} must be text."


def _field_message(field: str, error: Mapping[str, Any]) -> str:
    """Describe one error of a plain field in a sentence fit for a form."""
    label = _label(field)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _MISSING_MESSAGES.get(field, f"{label} is required.")
    if kind == "string_too_short":
        return f"{label} must be at least {ctx['min_length']} characters."
    if kind == "string_too_long":
        return f"{label} must be at most {ctx['max_length']} characters."
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(field, f"{label} has an invalid format.")
    if kind == "invalid_characters":
        return f"{label} contains invalid characters."
    if kind == "literal_error":
        if field in _TRANSACTION_TYPE_FIELDS:
            return f"Unknown transaction type: {_shorten(error['input'])}."
        if field == "postback_format":
            return f"{label} must be one of: {', '.join(POSTBACK_FORMATS)}."
        return f"{label} must be one of {ctx.get('expected', 'the listed values')}."
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        if field in _RANGES:
            low, high = _RANGES[field]
            return f"{label} must be between {low} and {high}."
        bound = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt"))))
        return f"{label} is out of range ({bound})."
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        if field in _RANGES:
            low, high = _RANGES[field]
            return f"{label} must be a whole number between {low} and {high}."
        return f"{label} must be a whole number."
    if kind in {"bool_parsing", "bool_type"}:
        return f"{label} must be yes or no."
    if kind == "too_long":
        return f"{label} may have at most {ctx['max_length']} entries."
    if kind == "duplicate_value":
        return str(error["msg"])
    if kind == "public_id_format":
        return f"{label} must be a connection id like {ctx['example']}."
    if kind == "extra_forbidden":
        return "Unknown field."
    if kind == "string_type":
        return f"{label} must be text."
    if kind in {"model_type", "model_attributes_type", "dict_type", "list_type"}:
        return f"{label} has an invalid value."
    return f"{label} is invalid."


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Map each failing field's dotted path to one short message to show beside it."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        loc = tuple(error["loc"])
        mapping_at = next((i for i, part in enumerate(loc[:-1]) if part in _MAPPING_FIELDS), None)
        if mapping_at is not None:
            # A key/value field is one control in a form, so its entries report on it.
            path = loc[: mapping_at + 1]
            message = _mapping_message(
                _label(str(loc[mapping_at])), str(loc[mapping_at + 1]), error
            )
        else:
            # A list of scalars (transaction types) is one multi-select in a form.
            path = loc
            while path and isinstance(path[-1], int):
                path = path[:-1]
            names = [part for part in path if isinstance(part, str)]
            message = (
                _field_message(names[-1], error) if names else "The submitted data is invalid."
            )
        key = ".".join(str(part) for part in path) or NON_FIELD_KEY
        messages.setdefault(key, message)
    return messages


_CODE_PRECEDENCE = (1005, 1006, 1003, 1004, 1002, 1001)
_CODE_BY_TYPE: Mapping[str, int] = {
    "missing": 1005,
    "extra_forbidden": 1006,
    "string_pattern_mismatch": 1003,
    "public_id_format": 1003,
    "int_from_float": 1003,
    "json_invalid": 1003,
    "invalid_characters": 1004,
    "literal_error": 1002,
    "enum": 1002,
    "greater_than": 1002,
    "greater_than_equal": 1002,
    "less_than": 1002,
    "less_than_equal": 1002,
    "string_too_short": 1002,
    "string_too_long": 1002,
    "too_short": 1002,
    "too_long": 1002,
    "duplicate_value": 1002,
}


def _code_for_type(kind: str) -> int:
    """Return the seed 002 error code of one pydantic error type."""
    if kind in _CODE_BY_TYPE:
        return _CODE_BY_TYPE[kind]
    if kind.endswith(("_type", "_parsing")):
        return 1003
    return 1001


def error_code(exc: ValidationError) -> int:
    """Return the seed 002 error code that best describes a validation failure."""
    codes = {_code_for_type(error["type"]) for error in exc.errors()}
    return next((code for code in _CODE_PRECEDENCE if code in codes), 1001)
