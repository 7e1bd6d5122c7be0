"""The adapter registry: which adapters a connection may use, and the configuration each takes.

``getConnectorSettings`` answers from here, and a connection's ``config.extraData`` (and
``config.vault``) is checked against it. Each property has the shape of the vendor's
``baseConfig`` / ``vaultConfig`` entries (reference B.4): ``{name, type, required, description}``
plus optional ``enum``, ``properties`` and ``items``. The adapters and their properties are the
portal's own small registry (the vendor's real adapter list is not public); add an adapter by
adding an ``Adapter`` to ``ADAPTERS``.

``extraData`` holds text values (the Connect form edits it as ``key=value`` lines), so its
properties are scalar: ``string``, ``bool`` (``true``/``false``/``1``/``0``) or ``select``. The
vault holds JSON values and may nest objects and arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PropertyType = Literal["string", "bool", "boolean", "select", "object", "array"]

META_CONNECTOR = "MetaConnector"
BOOLEAN_TEXT = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class Items:
    """What each element of an array property holds."""

    type: PropertyType
    properties: tuple[Property, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """Return the items as getConnectorSettings shows them."""
        shown: dict[str, Any] = {"type": self.type}
        if self.properties:
            shown["properties"] = [prop.as_json() for prop in self.properties]
        return shown


@dataclass(frozen=True)
class Property:
    """One configuration value an adapter takes."""

    name: str
    type: PropertyType
    required: bool
    description: str
    enum: tuple[str, ...] = ()
    properties: tuple[Property, ...] = ()
    items: Items | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the property as getConnectorSettings shows it."""
        shown: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "description": self.description,
        }
        if self.enum:
            shown["enum"] = list(self.enum)
        if self.properties:
            shown["properties"] = [prop.as_json() for prop in self.properties]
        if self.items is not None:
            shown["items"] = self.items.as_json()
        return shown


@dataclass(frozen=True)
class Adapter:
    """An adapter: its id, and the properties of its base and vault configuration."""

    id: str
    base_config: tuple[Property, ...] = ()
    vault_config: tuple[Property, ...] = field(default=())


ADAPTERS: Mapping[str, Adapter] = {
    adapter.id: adapter
    for adapter in (
        Adapter(
            id="Simulator",
            base_config=(
                Property(
                    "allowExpiredCards", "bool", False, "Accept cards past their expiry date."
                ),
                Property(
                    "integrationType",
                    "select",
                    False,
                    "Type of integration.",
                    enum=("direct", "redirect"),
                ),
                Property(
                    "mergeCustomerDataFromRef",
                    "bool",
                    False,
                    "Copy the customer data of the referenced transaction.",
                ),
            ),
            vault_config=(
                Property(
                    "threeDConfig",
                    "object",
                    False,
                    "3-D Secure configuration.",
                    properties=(
                        Property("enabled", "boolean", True, "Enabled."),
                        Property(
                            "acquirers",
                            "array",
                            False,
                            "Acquiring BINs.",
                            items=Items(
                                "object",
                                (
                                    Property(
                                        "scheme",
                                        "string",
                                        True,
                                        "Card scheme.",
                                        enum=("visa", "mastercard", "amex", "jcb", "discover"),
                                    ),
                                ),
                            ),
                        ),
                    ),
                ),
                Property(
                    "preferredProtocolVersion",
                    "string",
                    False,
                    "Preferred 3-D Secure protocol version.",
                    enum=("any", "2.1.0", "2.2.0", "latest"),
                ),
            ),
        ),
        Adapter(id=META_CONNECTOR),
    )
}
ADAPTER_IDS: tuple[str, ...] = tuple(sorted(ADAPTERS))


@dataclass(frozen=True)
class ConfigProblem:
    """A configuration value the adapter does not take: its kind, where, and why."""

    kind: str  # a pydantic-style error type: missing, not_applicable, literal_error, ...
    path: tuple[str | int, ...]
    message: str


def _check_value(prop: Property, value: Any, path: tuple, problems: list[ConfigProblem]) -> None:
    """Check one JSON value against its property, recursing into objects and arrays."""
    label = "/".join(str(part) for part in path)
    if prop.type in ("bool", "boolean"):
        if not isinstance(value, bool):
            problems.append(ConfigProblem("bool_type", path, f"{label}: must be true or false"))
    elif prop.type in ("string", "select"):
        if not isinstance(value, str):
            problems.append(ConfigProblem("string_type", path, f"{label}: must be text"))
        elif prop.enum and value not in prop.enum:
            allowed = ", ".join(prop.enum)
            problems.append(ConfigProblem("literal_error", path, f"{label}: one of {allowed}"))
    elif prop.type == "object":
        if not isinstance(value, dict):
            problems.append(ConfigProblem("dict_type", path, f"{label}: must be an object"))
        else:
            problems.extend(check_properties(prop.properties, value, path))
    elif prop.type == "array":
        if not isinstance(value, list):
            problems.append(ConfigProblem("list_type", path, f"{label}: must be an array"))
        elif prop.items is not None:
            item = Property(prop.name, prop.items.type, True, "", properties=prop.items.properties)
            for index, element in enumerate(value):
                _check_value(item, element, (*path, index), problems)


def check_properties(
    properties: tuple[Property, ...], values: Mapping[str, Any], path: tuple = ()
) -> list[ConfigProblem]:
    """Return every problem of JSON values checked against a list of properties."""
    known = {prop.name: prop for prop in properties}
    problems: list[ConfigProblem] = []
    for name, value in values.items():
        prop = known.get(name)
        where = (*path, name)
        if prop is None:
            accepted = ", ".join(known) or "none"
            message = f"{'/'.join(map(str, where))}: not a setting of this adapter ({accepted})"
            problems.append(ConfigProblem("not_applicable", where, message))
        else:
            _check_value(prop, value, where, problems)
    for prop in properties:
        if prop.required and prop.name not in values:
            where = (*path, prop.name)
            problems.append(
                ConfigProblem("missing", where, f"{'/'.join(map(str, where))}: required")
            )
    return problems


def check_extra_data(adapter: Adapter, extra_data: Mapping[str, str]) -> list[ConfigProblem]:
    """Return the problems of text extra data checked against the adapter's base config."""
    # Stored as text: "true"/"1" and "false"/"0" are the spellings of a flag.
    typed = {
        key: BOOLEAN_TEXT.get(value.lower(), value)
        if _type_of(adapter.base_config, key) in ("bool", "boolean")
        else value
        for key, value in extra_data.items()
    }
    return check_properties(adapter.base_config, typed, ("extra_data",))


def _type_of(properties: tuple[Property, ...], name: str) -> str | None:
    """Return the type of the named property, or None when there is none."""
    return next((prop.type for prop in properties if prop.name == name), None)
