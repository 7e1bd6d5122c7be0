"""The provisioning API's reference page, read from its OpenAPI document.

The page is rendered on the server from the same document the API serves, so it cannot
drift from it. Each operation lists its parameters, its body and its answers; each schema its
fields with their type, whether they are required and the limits the API enforces. Prose is
Markdown (CommonMark and tables, raw HTML off).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from markupsafe import Markup

from portal.api.provisioning import openapi

REF_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class Part:
    """A piece of a type in words; ``link`` when it names a schema of the page."""

    text: str
    link: bool = False


@dataclass(frozen=True)
class Field:
    """One field of a schema, or one parameter of an operation."""

    name: str
    type: tuple[Part, ...]
    required: bool
    rules: tuple[str, ...]
    description: str
    where: str = ""


@dataclass(frozen=True)
class Schema:
    """A named body or answer with its fields."""

    name: str
    description: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Answer:
    """One HTTP status an operation answers, with the schema of its body."""

    status: str
    description: str
    schema: str | None


@dataclass(frozen=True)
class Endpoint:
    """One operation as the page shows it."""

    method: str
    path: str
    operation_id: str
    summary: str
    description: Markup
    parameters: tuple[Field, ...]
    body: str | None
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Reference:
    """Everything the reference page shows."""

    title: str
    version: str
    introduction: Markup
    endpoints: tuple[Endpoint, ...]
    schemas: tuple[Schema, ...]


@cache
def _markdown_renderer():
    """Return the renderer: CommonMark with tables, raw HTML off."""
    # Imported here, for the one page that renders Markdown: markdown-it is 62 modules, about
    # 13 ms and 1 MB that every web worker would otherwise load at start (benchmarks/startup.py).
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown(text: str) -> Markup:
    """Render the document's Markdown prose (raw HTML is escaped, never passed through)."""
    return Markup(_markdown_renderer().render(text))  # noqa: S704 (markdown-it escapes; html is off)


def _ref_name(ref: str) -> str:
    """Return the schema name a ``$ref`` points at."""
    return ref.removeprefix(REF_PREFIX)


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Split a nullable or union schema (``anyOf``, ``oneOf``, nested) into its non-null
    alternatives."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [
                variant
                for alternative in schema[key]
                if alternative.get("type") != "null"
                for variant in _variants(alternative)
            ]
    return [schema]


def _nullable(schema: dict[str, Any]) -> bool:
    """Whether the schema also takes ``null``."""
    kinds = schema.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        return True
    return any(
        variant.get("type") == "null"
        for key in ("anyOf", "oneOf")
        for variant in schema.get(key, ())
    )


def _type_of(schema: dict[str, Any]) -> tuple[Part, ...]:
    """Return a schema's type in words: text parts, and schema names the page links to."""
    alternatives: list[tuple[Part, ...]] = []
    for variant in _variants(schema):
        if "$ref" in variant:
            alternatives.append((Part(_ref_name(variant["$ref"]), link=True),))
            continue
        kinds = variant.get("type", "any")
        kinds = [kind for kind in kinds if kind != "null"] if isinstance(kinds, list) else [kinds]
        for kind in kinds:
            if kind == "array" and isinstance(variant.get("items"), dict):
                alternatives.append((Part("array of "), *_type_of(variant["items"])))
            elif kind == "object" and isinstance(variant.get("additionalProperties"), dict):
                inner = _type_of(variant["additionalProperties"])
                alternatives.append((Part("map of "), *inner))
            else:
                alternatives.append((Part(kind),))
    parts: list[Part] = []
    for alternative in dict.fromkeys(alternatives) or [(Part("any"),)]:
        if parts:
            parts.append(Part(" or "))
        parts.extend(alternative)
    if _nullable(schema):
        parts.append(Part(" or null"))
    return tuple(parts)


def _rules(schema: dict[str, Any]) -> tuple[str, ...]:
    """Return the limits a schema states, in words."""
    rules: list[str] = []
    for variant in [schema, *_variants(schema)]:
        low, high = variant.get("minLength"), variant.get("maxLength")
        if low is not None and high is not None:
            rules.append(f"{low} to {high} characters")
        elif high is not None:
            rules.append(f"at most {high} characters")
        elif low is not None:
            rules.append(f"at least {low} characters")
        if variant.get("minimum") is not None or variant.get("maximum") is not None:
            rules.append(f"{variant.get('minimum', '…')} to {variant.get('maximum', '…')}")
        if variant.get("maxItems") is not None:
            rules.append(f"at most {variant['maxItems']} items")
        if variant.get("maxProperties") is not None:
            rules.append(f"at most {variant['maxProperties']} keys")
        if isinstance(variant.get("items"), dict):
            rules.extend(f"each {rule}" for rule in _rules(variant["items"]))
        if variant.get("format"):
            rules.append(f"format {variant['format']}")
        if variant.get("pattern"):
            rules.append(f"pattern {variant['pattern']}")
        if variant.get("enum"):
            rules.append("one of " + ", ".join(json.dumps(value) for value in variant["enum"]))
        if "const" in variant:
            rules.append(f"always {json.dumps(variant['const'])}")
    if schema.get("default") is not None:
        rules.append(f"default {json.dumps(schema['default'])}")
    return tuple(dict.fromkeys(rules))


def _description(schema: dict[str, Any]) -> str:
    """Return a schema's description, or the first one among its alternatives."""
    if schema.get("description"):
        return schema["description"]
    alternatives = [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
    return next(filter(None, map(_description, alternatives)), "")


def _field(name: str, schema: dict[str, Any], required: bool, where: str = "") -> Field:
    """Describe one property or parameter."""
    return Field(
        name=name,
        type=_type_of(schema),
        required=required,
        rules=_rules(schema),
        description=_description(schema),
        where=where,
    )


def _schema(name: str, schema: dict[str, Any]) -> Schema:
    """Describe one component schema."""
    required = set(schema.get("required", ()))
    return Schema(
        name=name,
        description=schema.get("description", ""),
        fields=tuple(
            _field(field, body, field in required)
            for field, body in schema.get("properties", {}).items()
        ),
    )


def _content_schema(entry: dict[str, Any]) -> str | None:
    """Return the schema name of a body or answer, if it names one."""
    schema = entry.get("content", {}).get("application/json", {}).get("schema", {})
    return _ref_name(schema["$ref"]) if "$ref" in schema else None


def _endpoint(path: str, method: str, operation: dict[str, Any]) -> Endpoint:
    """Describe one operation of the document."""
    parameters = tuple(
        _field(
            parameter["name"],
            {"description": parameter.get("description", ""), **parameter["schema"]},
            parameter.get("required", False),
            where=parameter["in"],
        )
        for parameter in operation.get("parameters", ())
    )
    answers = tuple(
        Answer(status, answer.get("description", ""), _content_schema(answer))
        for status, answer in sorted(operation["responses"].items())
    )
    body = operation.get("requestBody")
    return Endpoint(
        method=method.upper(),
        path=path,
        operation_id=operation["operationId"],
        summary=operation.get("summary", ""),
        description=markdown(operation.get("description", "")),
        parameters=parameters,
        body=_content_schema(body) if body else None,
        answers=answers,
    )


@cache
def reference() -> Reference:
    """Return the reference page's content (built once per process)."""
    document = openapi.document()
    endpoints = tuple(
        _endpoint(path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    )
    schemas = tuple(
        _schema(name, schema) for name, schema in sorted(document["components"]["schemas"].items())
    )
    return Reference(
        title=document["info"]["title"],
        version=document["info"]["version"],
        introduction=markdown(document["info"]["description"]),
        endpoints=endpoints,
        schemas=schemas,
    )
