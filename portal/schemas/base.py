"""What every input model shares: strict parsing, text rules, and errors as messages or codes.

HTML forms and JSON APIs validate with the same models, so a rule and its message are stated
once, here or in the model that owns the field. ``field_errors`` turns a ``ValidationError``
into one short message per field (for forms); ``error_code`` picks the seed 002 error code
that best describes it (for the JSON APIs).

Every string is stripped; an optional string that is empty after stripping becomes ``None``,
and a required one that is empty counts as missing. Single-line text refuses control
characters; multi-line text allows line breaks and tabs only.

``error_code`` maps a ``ValidationError`` to one seed 002 error code; when several errors
occur the most fundamental one wins: 1005, 1001, 1006, 1003, 1004, then 1002.

======  ==============================================================================
code    pydantic error types
======  ==============================================================================
1005    ``missing`` (absent, null, blank or an empty required list)
1006    ``extra_forbidden`` (a parameter this request does not take), ``not_applicable``
1003    ``string_pattern_mismatch``, ``public_id_format``, ``string_too_short``,
        ``string_too_long``, ``too_short``, ``too_long``, ``url_*``, ``email_format``
        (a malformed value: a format or a length, as issue 10's table says)
1004    ``invalid_characters`` (control characters in text)
1002    ``literal_error``, ``enum``, ``greater_than[_equal]``, ``less_than[_equal]``,
        ``duplicate_value`` (well-formed but outside the allowed values or range)
1001    ``*_type``, ``*_parsing``, ``int_from_float``, ``json_invalid`` (a value of the
        wrong JSON type), and anything else
======  ==============================================================================
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

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

from portal.core.names import clean_name, invisible_characters
from portal.models import Environment

NON_FIELD_KEY = "__all__"

#: Human labels of the fields of every input model, for messages such as "Name is required.".
LABELS: Mapping[str, str] = {
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
    "email": "E-mail",
    "company_id": "Company",
    "environment": "Environment",
    "status": "Status",
    "role": "Role",
    "secret": "Secret key",
    "provider": "Integration",
}


def explained(kind: str, message: str) -> PydanticCustomError:
    """Build an error of a given type whose message is shown as it is."""
    return PydanticCustomError(kind, message, {"explained": True})


def missing(message: str = "Field required") -> PydanticCustomError:
    """Build the error that marks a mandatory value as absent."""
    if message == "Field required":
        return PydanticCustomError("missing", message)
    return explained("missing", message)


def required(message: str | None = None) -> BeforeValidator:
    """Treat null and blank text as a missing value, with the field's own message if given."""

    def check(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise missing(message) if message else missing()
        return value

    return BeforeValidator(check)


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


def single_line(value: str | None) -> str | None:
    """Refuse control characters, line breaks included."""
    return _refuse_control_characters(value, frozenset())


def multi_line(value: str | None) -> str | None:
    """Refuse control characters except line breaks and tabs."""
    return _refuse_control_characters(value, frozenset("\n\r\t"))


def prepare_secret(max_length: int) -> Callable[[Any], Any]:
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
        return single_line(value)

    return prepare


def reject_bool(value: Any) -> Any:
    """Refuse booleans where a count is expected rather than read them as 0 or 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def unique(values: Iterable[str], what: str) -> None:
    """Refuse a collection that names the same value twice."""
    duplicates = [value for value, count in Counter(values).items() if count > 1]
    if duplicates:
        raise PydanticCustomError(
            "duplicate_value",
            "{what} listed more than once: {duplicates}.",
            {"what": what, "duplicates": ", ".join(duplicates)},
        )


REQUIRED = required()
OPTIONAL = BeforeValidator(_blank_to_none)
SINGLE_LINE = AfterValidator(single_line)


def bounded(max_length: int, min_length: int = 1) -> StringConstraints:
    """Return the strip-and-length constraints of a text field."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


def matching(pattern: str) -> StringConstraints:
    """Return strip-and-pattern constraints; the pattern alone bounds the length."""
    # No max_length here: "AUT" must fail the format check, not a length check.
    return StringConstraints(strip_whitespace=True, pattern=pattern)


def visible(value: str | None) -> str | None:
    """Refuse invisible formatting characters (zero-width, bidirectional overrides) in a name."""
    if value is not None and invisible_characters(value):
        raise PydanticCustomError("invalid_characters", "Value contains invalid characters")
    return value


def name_text(
    max_length: int = 100,
    *,
    min_length: int = 1,
    label: str = "Name",
    missing_message: str | None = "Enter a name.",
) -> Any:
    """Return the type of a person-given name: one visible line, NFKC, spaces tidied, bounded.

    ``missing_message`` None gives the generic "<label> is required." of ``field_errors``.
    """

    def within_limits(value: str) -> str:
        if len(value) > max_length:
            message = f"{label} must be at most {max_length} characters."
            raise explained("string_too_long", message)
        if len(value) < min_length:
            message = f"{label} must be at least {min_length} characters."
            raise explained("string_too_short", message)
        return value

    return Annotated[
        str,
        AfterValidator(single_line),
        AfterValidator(visible),
        AfterValidator(clean_name),
        AfterValidator(within_limits),
        required(missing_message),
    ]


def count_between(low: int, high: int, field_label: str) -> Any:
    """Return the type of a whole number within bounds, its message naming the bounds."""

    def check(value: Any) -> int:
        if isinstance(value, str):
            value = value.strip()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise explained(
                "int_type", f"{field_label} must be a whole number between {low} and {high}."
            )
        if isinstance(value, str):
            # ASCII digits only: int() also reads "²" and other Unicode digits.
            if (
                not value.lstrip("-").isascii()
                or not value.lstrip("-").isdigit()
                or len(value) > 20
            ):
                raise explained(
                    "int_parsing", f"{field_label} must be a whole number between {low} and {high}."
                )
            value = int(value)
        if not low <= value <= high:
            kind = "greater_than_equal" if value < low else "less_than_equal"
            raise explained(kind, f"{field_label} must be between {low} and {high}.")
        return value

    # The bounds also go into the JSON schema of the APIs; `check` has refused anything outside.
    return Annotated[int, BeforeValidator(check), Field(ge=low, le=high)]


def choice(options: Iterable[str], message: str) -> Any:
    """Return the type of a value picked from a list, refused with one message otherwise."""
    allowed = frozenset(options)

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise explained("literal_error", message)
        return value

    return Annotated[str, BeforeValidator(check)]


EnvironmentChoice = choice((env.value for env in Environment), "Choose Production or Sandbox.")


def _company_id(value: Any) -> int:
    """Read the chosen company's id; anything but a plain number is not in the list."""
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    # ASCII digits only and at most 18 of them: "²" and 70-digit numbers are not ids.
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise explained("value_error", "Choose a company from the list.")
    return int(text)


CompanyId = Annotated[int, BeforeValidator(_company_id)]


class InputModel(BaseModel):
    """Share the strict input configuration of every input model."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        loc_by_alias=False,
        # Built on first use, not at import: most forms are rare, and building every
        # validator up front cost each web worker's start time and memory.
        defer_build=True,
    )


_MAPPING_FIELDS = frozenset({"extra_data", "settings"})
_TRANSACTION_TYPE_FIELDS = frozenset({"disabled_transaction_types", "transaction_types"})
MAPPING_KEY_MAX = 100
MAPPING_VALUE_MAX = 1000
_PATTERN_MESSAGES: Mapping[str, str] = {
    "business_country": "Business country must be two upper-case letters (ISO 3166-1 alpha-2).",
    "language": "Language must be two lower-case letters (ISO 639-1).",
}
_MISSING_MESSAGES: Mapping[str, str] = {
    "transaction_types": "Select at least one transaction type.",
}


def label(field: str) -> str:
    """Return the human label of a field name."""
    return LABELS.get(field, field.replace("_", " ").capitalize())


def _shorten(value: Any, limit: int = 40) -> str:
    """Render an offending input briefly so a message stays one short line."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mapping_message(field_label: str, entry: str, error: Mapping[str, Any]) -> str:
    """Describe an error inside a key/value field such as settings or extra data."""
    ctx = error.get("ctx") or {}
    is_key = error["loc"][-1] == "[key]"
    kind = error["type"]
    if is_key:
        if kind == "invalid_characters":
            return f"{field_label} keys must not contain control characters."
        return f"{field_label} keys must be 1 to {MAPPING_KEY_MAX} characters."
    where = f"{field_label} value for {_shorten(entry)}"
    if kind == "string_too_long":
        limit = ctx.get("max_length", MAPPING_VALUE_MAX)
        return f"{where} must be at most {limit} characters."
    if kind == "invalid_characters":
        return f"{where} contains invalid characters."
    return f"{where} must be text."


def _range_message(field_label: str, error: Mapping[str, Any]) -> str:
    """Describe a number outside its bounds, or not a whole number."""
    if error["type"] in {"int_parsing", "int_type", "int_from_float"}:
        return f"{field_label} must be a whole number."
    ctx = error.get("ctx") or {}
    bound = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt"))))
    return f"{field_label} is out of range ({bound})."


def _literal_message(field: str, field_label: str, error: Mapping[str, Any]) -> str:
    """Describe a value outside the predefined ones."""
    if field in _TRANSACTION_TYPE_FIELDS:
        return f"Unknown transaction type: {_shorten(error['input'])}."
    expected = (error.get("ctx") or {}).get("expected", "the listed values")
    if field == "postback_format":
        expected = expected.replace("'", "").replace(" or ", ", ")
        return f"{field_label} must be one of: {expected}."
    return f"{field_label} must be one of {expected}."


_SIMPLE_MESSAGES: Mapping[str, str] = {
    "invalid_characters": "{label} contains invalid characters.",
    "bool_parsing": "{label} must be yes or no.",
    "bool_type": "{label} must be yes or no.",
    "extra_forbidden": "Unknown field.",
    "string_type": "{label} must be text.",
    "model_type": "{label} has an invalid value.",
    "model_attributes_type": "{label} has an invalid value.",
    "dict_type": "{label} has an invalid value.",
    "list_type": "{label} has an invalid value.",
}


def _field_message(field: str, error: Mapping[str, Any]) -> str:
    """Describe one error of a plain field in a sentence fit for a form."""
    ctx = error.get("ctx") or {}
    if ctx.get("explained"):
        return str(error["msg"])
    field_label = label(field)
    kind = error["type"]
    if kind == "missing":
        return _MISSING_MESSAGES.get(field, f"{field_label} is required.")
    if kind == "string_too_short":
        return f"{field_label} must be at least {ctx['min_length']} characters."
    if kind == "string_too_long":
        return f"{field_label} must be at most {ctx['max_length']} characters."
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(field, f"{field_label} has an invalid format.")
    if kind == "literal_error":
        return _literal_message(field, field_label, error)
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return _range_message(field_label, error)
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _range_message(field_label, error)
    if kind == "too_long":
        return f"{field_label} may have at most {ctx['max_length']} entries."
    if kind == "duplicate_value":
        return str(error["msg"])
    if kind == "public_id_format":
        return f"{field_label} must be a connection id like {ctx['example']}."
    if kind in _SIMPLE_MESSAGES:
        return _SIMPLE_MESSAGES[kind].format(label=field_label)
    return f"{field_label} is invalid."


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Map each failing field's dotted path to one short message to show beside it."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        loc = tuple(error["loc"])
        mapping_at = next((i for i, part in enumerate(loc[:-1]) if part in _MAPPING_FIELDS), None)
        if mapping_at is not None:
            # A key/value field is one control in a form, so its entries report on it.
            path = loc[: mapping_at + 1]
            message = _mapping_message(label(str(loc[mapping_at])), str(loc[mapping_at + 1]), error)
        else:
            # A list of scalars (transaction types) is one multi-select in a form.
            path = loc
            while path and isinstance(path[-1], int):
                path = path[:-1]
            names = [part for part in path if isinstance(part, str)]
            if names:
                message = _field_message(names[-1], error)
            elif (error.get("ctx") or {}).get("explained"):
                message = str(error["msg"])
            else:
                message = "The submitted data is invalid."
        key = ".".join(str(part) for part in path) or NON_FIELD_KEY
        messages.setdefault(key, message)
    return messages


_CODE_PRECEDENCE = (1005, 1001, 1006, 1003, 1004, 1002)
_CODE_BY_TYPE: Mapping[str, int] = {
    "missing": 1005,
    "extra_forbidden": 1006,
    "not_applicable": 1006,
    "string_pattern_mismatch": 1003,
    "public_id_format": 1003,
    "string_too_short": 1003,
    "string_too_long": 1003,
    "too_short": 1003,
    "too_long": 1003,
    "email_format": 1003,
    "invalid_characters": 1004,
    "literal_error": 1002,
    "enum": 1002,
    "greater_than": 1002,
    "greater_than_equal": 1002,
    "less_than": 1002,
    "less_than_equal": 1002,
    "duplicate_value": 1002,
}


def code_for_type(kind: str) -> int:
    """Return the seed 002 error code of one pydantic error type."""
    if kind in _CODE_BY_TYPE:
        return _CODE_BY_TYPE[kind]
    if kind.startswith("url_"):
        return 1003
    # A value of the wrong JSON type ("5" for a list, an object for a flag) is an invalid
    # request (1001), as issue 10's error table says.
    return 1001


def error_code(exc: ValidationError) -> int:
    """Return the seed 002 error code that best describes a validation failure."""
    codes = {code_for_type(error["type"]) for error in exc.errors()}
    return next((code for code in _CODE_PRECEDENCE if code in codes), 1001)
