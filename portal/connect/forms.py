"""Connect's forms: flat controls in, the nested input models of seed 002 out, and back.

The HTML forms have one control per field; the input models are nested like seed 002's JSON.
Each reader names the fields it reads, so a stray `csrf_token` never reaches a model, and on
edit a control missing from the post keeps the current value: a field the user did not touch
is never cleared or switched off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from portal.models import Connection, Flow, Integration
from portal.schemas.connect import (
    CONFIG_SECRETS,
    CONFIG_TEXT_FIELDS,
    CONNECTION_FLAGS,
    CONNECTION_TEXT_FIELDS,
    ConnectionInput,
    CustomerForm,
    FlowInput,
    IntegrationInput,
)
from portal.web.forms import Form, ask_to_retype, choices, flag, text, validate

MAPPING_TEXT_FIELDS = ("extra_data", "settings", "terminals")
SECRET_FIELDS = ("api_key", "shared_secret", *CONFIG_SECRETS)
DISABLED_SUFFIX = ", disabled"


def connection_control(path: str) -> str:
    """Return the control an error path belongs to (config.language -> language)."""
    parts = path.split(".")
    if parts[0] == "config" and len(parts) > 1:
        return parts[1]
    return parts[0]


def parse_mapping(value: str, label: str) -> dict[str, str]:
    """Read "key=value" lines into a dict; raise ValueError with a message for a bad line."""
    result: dict[str, str] = {}
    for number, line in enumerate(value.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, item = line.partition("=")
        if not sep:
            raise ValueError(f"{label}: write one key=value per line (line {number} has no “=”).")
        key = key.strip()
        if key in result:
            raise ValueError(f"{label}: the key “{key}” is listed more than once.")
        result[key] = item.strip()
    return result


def format_mapping(mapping: Mapping[str, str] | None) -> str:
    """Write a dict as "key=value" lines."""
    return "\n".join(f"{key}={value}" for key, value in (mapping or {}).items())


def parse_terminals(value: str) -> list[dict[str, Any]]:
    """Read one terminal id per line; a trailing ", disabled" marks a disabled terminal."""
    terminals = []
    for line in value.splitlines():
        line = line.strip()
        if not line:
            continue
        disabled = line.lower().endswith(DISABLED_SUFFIX)
        terminal_id = line[: -len(DISABLED_SUFFIX)] if disabled else line
        terminals.append({"terminal_id": terminal_id.strip(), "disabled": disabled})
    return terminals


def keep_terminal_references(
    terminals: list[dict[str, Any]], stored: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """Give each terminal the STAN and capture reference it has stored under the same id.

    The form shows terminal ids only (the API never reads these two back), so an edit in the
    browser must not wipe what a client set through the provisioning API.
    """
    references = {
        terminal["terminal_id"]: {
            name: terminal[name] for name in ("stan", "capture_reference") if name in terminal
        }
        for terminal in stored or []
    }
    return [{**references.get(terminal["terminal_id"], {}), **terminal} for terminal in terminals]


def format_terminals(terminals: list[dict[str, Any]] | None) -> str:
    """Write terminals as lines, the disabled ones marked."""
    return "\n".join(
        terminal["terminal_id"] + (DISABLED_SUFFIX if terminal.get("disabled") else "")
        for terminal in terminals or []
    )


def customer_form(posted: MultiDict) -> Form[CustomerForm]:
    """Read the Add customer form."""
    values = {"name": text(posted, "name"), "company_id": text(posted, "company_id")}
    return validate(CustomerForm, values, values)


def integration_form(
    posted: MultiDict, integration: Integration | None = None
) -> Form[IntegrationInput]:
    """Read the integration form; the network of an existing integration stays as it is."""
    network = integration.network if integration else text(posted, "network")
    name = text(posted, "name", integration.name if integration else "")
    values = {"name": name, "network": network, "type": posted.get("type")}
    return validate(IntegrationInput, {"name": name, "network": network}, values)


def integration_values(integration: Integration) -> dict[str, Any]:
    """Return an integration's values as its edit form shows them."""
    return {"name": integration.name, "network": integration.network, "type": integration.type}


def connection_form(posted: MultiDict, connection: Connection | None = None) -> Form:
    """Read the connection form into a ConnectionInput (empty secrets mean keep/generate)."""
    current = connection_values(connection)
    text_fields = (*CONNECTION_TEXT_FIELDS, *CONFIG_TEXT_FIELDS, *MAPPING_TEXT_FIELDS)
    values: dict[str, Any] = {name: text(posted, name, current[name]) for name in text_fields}
    values.update(
        {name: flag(posted, name, current[name]) for name in (*CONNECTION_FLAGS, "test_mode")}
    )
    values["disabled_transaction_types"] = choices(
        posted, "disabled_transaction_types", current["disabled_transaction_types"]
    )
    mapping_errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for name, label in (("extra_data", "Extra data"), ("settings", "Settings")):
        try:
            parsed[name] = parse_mapping(values[name], label)
        except ValueError as error:
            mapping_errors[name] = str(error)
    data: dict[str, Any] = {
        name: values[name] for name in (*CONNECTION_TEXT_FIELDS, *CONNECTION_FLAGS)
    }
    data["postback_format"] = values["postback_format"] or "inherit"
    data["disabled_transaction_types"] = values["disabled_transaction_types"]
    data["terminals"] = keep_terminal_references(
        parse_terminals(values["terminals"]), connection.terminals if connection else None
    )
    data["settings"] = parsed.get("settings", {})
    data["api_key"] = text(posted, "api_key")
    data["shared_secret"] = text(posted, "shared_secret")
    data["config"] = {
        **{name: values[name] for name in CONFIG_TEXT_FIELDS},
        **{name: text(posted, name) for name in CONFIG_SECRETS},
        "test_mode": values["test_mode"],
        "extra_data": parsed.get("extra_data", {}),
    }
    form = validate(ConnectionInput, data, values, control=connection_control)
    # A malformed key/value text is as invalid as a bad value: nothing is saved.
    for name, message in mapping_errors.items():
        form.errors.setdefault(name, message)
    typed = [name for name in SECRET_FIELDS if text(posted, name).strip()]
    return ask_to_retype(form, typed)


def connection_values(connection: Connection | None) -> dict[str, Any]:
    """Return a connection's values as its form shows them (never its secrets)."""
    text_fields = (*CONNECTION_TEXT_FIELDS, *CONFIG_TEXT_FIELDS)
    flags = (*CONNECTION_FLAGS, "test_mode")
    if connection is None:
        values: dict[str, Any] = {name: "" for name in (*text_fields, *MAPPING_TEXT_FIELDS)}
        values.update({name: False for name in flags})
        values["postback_format"] = "inherit"
        values["disabled_transaction_types"] = []
        return values
    values = {name: getattr(connection, name) or "" for name in text_fields}
    values.update({name: getattr(connection, name) for name in flags})
    values["disabled_transaction_types"] = list(connection.disabled_transaction_types or [])
    values["extra_data"] = format_mapping(connection.extra_data)
    values["settings"] = format_mapping(connection.settings)
    values["terminals"] = format_terminals(connection.terminals)
    return values


def flow_form(posted: MultiDict, flow: Flow | None = None) -> Form[FlowInput]:
    """Read the flow form; on edit a control missing from the post keeps its value."""
    current = flow_values(flow)
    values = {
        name: text(posted, name, current[name])
        for name in ("name", "default_connection_id", "retries", "expiry_hours")
    }
    values["transaction_types"] = choices(posted, "transaction_types", current["transaction_types"])
    values["re_route_recurring"] = flag(posted, "re_route_recurring", current["re_route_recurring"])
    data = dict(values)
    for name in ("retries", "expiry_hours"):
        # Blank counts means the default (0), as in seed 002.
        if not str(data[name]).strip():
            data[name] = 0
    return validate(FlowInput, data, values)


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
