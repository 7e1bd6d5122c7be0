"""Turn Connect form posts into the shared input models, and models back into form values.

The HTML forms are flat (one control per field); the input models are nested like seed 002's
JSON. Each builder names the fields it reads, so a stray `csrf_token` never reaches a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from portal.models import Connection, Flow, Integration
from portal.schemas.connect import (
    ConnectionInput,
    CustomerInput,
    FlowInput,
    IntegrationInput,
    field_errors,
)

M = TypeVar("M", bound=BaseModel)

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
CONFIG_TEXT_FIELDS = ("username", "language")
SECRET_FIELDS = ("shared_secret", "password", "api_secret")
CONNECTION_FLAGS = ("scheduler_enabled", "virtual_terminal_enabled")


@dataclass
class Submission(Generic[M]):
    """A parsed form: the valid model, or the values to show again with their errors."""

    values: dict[str, Any]
    model: M | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _text(form: MultiDict, name: str, current: Any = "") -> Any:
    """Read a text control; a control missing from the post keeps its current value."""
    return form.get(name, current)


def _flag(form: MultiDict, name: str, current: bool = False) -> bool:
    """Read a checkbox; a control missing from the post keeps its current value.

    An unchecked checkbox posts nothing, so each one travels with a hidden empty companion
    of the same name: [""] is unchecked, ["", "y"] checked, and no value at all means the
    control was not on the form, which must not turn the flag off.
    """
    posted = form.getlist(name)
    return any(posted) if posted else current


def _choices(form: MultiDict, name: str, current: list[str]) -> list[str]:
    """Read a group of checkboxes (with its hidden companion) like _flag reads one."""
    posted = form.getlist(name)
    return [value for value in posted if value] if posted else list(current)


def _control(path: str) -> str:
    """Return the form control an error path belongs to (config.language -> language)."""
    parts = path.split(".")
    if parts[0] == "config" and len(parts) > 1:
        return parts[1]
    return parts[0]


def _validate(model: type[M], data: dict[str, Any], values: dict[str, Any]) -> Submission[M]:
    """Validate data with the model; map errors onto the form's controls."""
    try:
        return Submission(values=values, model=model.model_validate(data))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for path, message in field_errors(exc).items():
            errors.setdefault(_control(path), message)
        return Submission(values=values, errors=errors)


def parse_mapping(text: str, label: str) -> dict[str, str]:
    """Read "key=value" lines into a dict; raise ValueError with a message for a bad line."""
    result: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{label}: write one key=value per line (line {number} has no “=”).")
        key = key.strip()
        if key in result:
            raise ValueError(f"{label}: the key “{key}” is listed more than once.")
        result[key] = value.strip()
    return result


def format_mapping(mapping: Mapping[str, str] | None) -> str:
    """Write a dict as "key=value" lines."""
    return "\n".join(f"{key}={value}" for key, value in (mapping or {}).items())


DISABLED_SUFFIX = ", disabled"


def parse_terminals(text: str) -> list[dict[str, Any]]:
    """Read one terminal id per line; a trailing ", disabled" marks a disabled terminal."""
    terminals = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        disabled = line.lower().endswith(DISABLED_SUFFIX)
        terminal_id = line[: -len(DISABLED_SUFFIX)] if disabled else line
        terminals.append({"terminal_id": terminal_id.strip(), "disabled": disabled})
    return terminals


def format_terminals(terminals: list[dict[str, Any]] | None) -> str:
    """Write terminals as lines, the disabled ones marked."""
    return "\n".join(
        terminal["terminal_id"] + (DISABLED_SUFFIX if terminal.get("disabled") else "")
        for terminal in terminals or []
    )


def customer_submission(form: MultiDict) -> Submission[CustomerInput]:
    """Parse the Add customer form (the company is resolved by the service)."""
    values = {"name": _text(form, "name"), "company_id": _text(form, "company_id")}
    return _validate(CustomerInput, {"name": values["name"]}, values)


def company_id_of(values: Mapping[str, Any]) -> int | None:
    """Return the posted company id as a number, or None when it is not one."""
    raw = str(values.get("company_id") or "")
    return int(raw) if raw.isdigit() else None


def integration_submission(
    form: MultiDict, integration: Integration | None = None
) -> Submission[IntegrationInput]:
    """Parse the integration form; the network of an existing integration stays as it is."""
    network = integration.network if integration else _text(form, "network")
    name = _text(form, "name", integration.name if integration else "")
    values = {"name": name, "network": network, "type": form.get("type")}
    return _validate(IntegrationInput, {"name": values["name"], "network": network}, values)


def integration_values(integration: Integration) -> dict[str, Any]:
    """Return an integration's values as its edit form shows them."""
    return {"name": integration.name, "network": integration.network, "type": integration.type}


MAPPING_TEXT_FIELDS = ("extra_data", "settings", "terminals")
RETYPE_MESSAGE = "Enter it again: a secret is never sent back to the page."


def connection_submission(
    form: MultiDict, connection: Connection | None = None
) -> Submission[ConnectionInput]:
    """Parse the connection form into a ConnectionInput (empty secrets mean keep/generate).

    On edit, a control missing from the post keeps the connection's current value, so a
    field the user did not touch is never cleared or switched off.
    """
    current = connection_values(connection)
    text_fields = (*CONNECTION_TEXT_FIELDS, *CONFIG_TEXT_FIELDS, *MAPPING_TEXT_FIELDS)
    values: dict[str, Any] = {name: _text(form, name, current[name]) for name in text_fields}
    values.update(
        {name: _flag(form, name, current[name]) for name in (*CONNECTION_FLAGS, "test_mode")}
    )
    values["disabled_transaction_types"] = _choices(
        form, "disabled_transaction_types", current["disabled_transaction_types"]
    )

    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for name, label in (("extra_data", "Extra data"), ("settings", "Settings")):
        try:
            parsed[name] = parse_mapping(values[name], label)
        except ValueError as error:
            errors[name] = str(error)
    data: dict[str, Any] = {name: values[name] for name in CONNECTION_TEXT_FIELDS}
    data.update({name: values[name] for name in CONNECTION_FLAGS})
    data["postback_format"] = values["postback_format"] or "inherit"
    data["disabled_transaction_types"] = values["disabled_transaction_types"]
    data["terminals"] = parse_terminals(values["terminals"])
    data["settings"] = parsed.get("settings", {})
    data["shared_secret"] = _text(form, "shared_secret")
    data["config"] = {
        "username": values["username"],
        "password": _text(form, "password"),
        "api_secret": _text(form, "api_secret"),
        "language": values["language"],
        "test_mode": values["test_mode"],
        "extra_data": parsed.get("extra_data", {}),
    }
    submission = _validate(ConnectionInput, data, values)
    if errors:
        # A malformed key/value text is as invalid as a bad value: nothing is saved.
        submission.model = None
        submission.errors = {**submission.errors, **errors}
    if submission.errors:
        # Secrets are not rendered back; say so, or an empty field would silently keep the
        # old secret on the next Save.
        for name in SECRET_FIELDS:
            if _text(form, name).strip() and name not in submission.errors:
                submission.errors[name] = RETYPE_MESSAGE
    return submission


def connection_values(connection: Connection | None) -> dict[str, Any]:
    """Return a connection's values as its form shows them (never its secrets)."""
    if connection is None:
        values: dict[str, Any] = {
            name: ""
            for name in (*CONNECTION_TEXT_FIELDS, *CONFIG_TEXT_FIELDS, *MAPPING_TEXT_FIELDS)
        }
        values.update({name: False for name in (*CONNECTION_FLAGS, "test_mode")})
        values["postback_format"] = "inherit"
        values["disabled_transaction_types"] = []
        return values
    values = {name: getattr(connection, name) or "" for name in CONNECTION_TEXT_FIELDS}
    values.update({name: getattr(connection, name) or "" for name in CONFIG_TEXT_FIELDS})
    values.update({name: getattr(connection, name) for name in (*CONNECTION_FLAGS, "test_mode")})
    values["disabled_transaction_types"] = list(connection.disabled_transaction_types or [])
    values["extra_data"] = format_mapping(connection.extra_data)
    values["settings"] = format_mapping(connection.settings)
    values["terminals"] = format_terminals(connection.terminals)
    return values


def flow_submission(form: MultiDict, flow: Flow | None = None) -> Submission[FlowInput]:
    """Parse the flow form; on edit a control missing from the post keeps its value."""
    current = flow_values(flow)
    values = {
        "name": _text(form, "name", current["name"]),
        "transaction_types": _choices(form, "transaction_types", current["transaction_types"]),
        "default_connection_id": _text(
            form, "default_connection_id", current["default_connection_id"]
        ),
        "re_route_recurring": _flag(form, "re_route_recurring", current["re_route_recurring"]),
        "retries": _text(form, "retries", current["retries"]),
        "expiry_hours": _text(form, "expiry_hours", current["expiry_hours"]),
    }
    data = dict(values)
    for name in ("retries", "expiry_hours"):
        # Blank counts means the default (0), as in seed 002.
        if not str(data[name]).strip():
            data[name] = 0
    return _validate(FlowInput, data, values)


def flow_values(flow: Flow | None) -> dict[str, Any]:
    """Return a flow's values as its form shows them."""
    if flow is None:
        return {
            "name": "",
            "transaction_types": [],
            "default_connection_id": "",
            "re_route_recurring": False,
            "retries": 0,
            "expiry_hours": 0,
        }
    return {
        "name": flow.name,
        "transaction_types": list(flow.transaction_types or []),
        "default_connection_id": flow.default_connection.public_id,
        "re_route_recurring": flow.re_route_recurring,
        "retries": flow.retries,
        "expiry_hours": flow.expiry_hours,
    }
