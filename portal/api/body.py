"""Read a JSON request body into an input model, or refuse it listing every problem.

The input models of ``portal/schemas/`` validate the JSON APIs as they validate the HTML forms.
Here a ``ValidationError`` becomes seed 002's answer: HTTP 422, the most fundamental error code
(``schemas.base.error_code``), and one problem per field with a JSON pointer in the client's own
spelling (camelCase), so a client fixes everything in one round.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, TypeVar, get_args

from flask import request
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from portal.api.errors import (
    INVALID_CHARACTERS,
    INVALID_REQUEST,
    NOT_APPLICABLE,
    ApiError,
    Problem,
)
from portal.schemas.base import InputModel, code_for_type, error_code, field_errors

M = TypeVar("M", bound=BaseModel)


def escape_pointer_part(part: str) -> str:
    """Escape one reference token of a JSON pointer (RFC 6901)."""
    return part.replace("~", "~0").replace("/", "~1")


FREE_MAPS = frozenset({"settings", "extra_data", "add_settings"})
#: JSON values below these fields are the client's own names all the way down.
FREE_TREES = frozenset({"vault"})


def _subclasses(model: type) -> Iterator[type]:
    """Yield every subclass of a model class, at any depth."""
    for subclass in model.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


@cache
def _aliases() -> Mapping[str, str]:
    """Return the fields whose JSON name is not their camelCase (scheduleApiAvailable...)."""
    aliases: dict[str, str] = {}
    for model in _subclasses(InputModel):
        for name, info in model.model_fields.items():
            if info.alias and info.alias != to_camel(name):
                aliases[name] = info.alias
    return aliases


def json_name(field: str) -> str:
    """Return the name the JSON of the APIs gives a field of an input model."""
    return _aliases().get(field) or to_camel(field)


def pointer(loc: tuple, *, raw_last: bool = False) -> str:
    """Return the JSON pointer of an error location, field names as the JSON spells them.

    Keys inside a free-form map (settings, extra data), everything below the vault, and an
    unknown field (``raw_last``) stay as the client wrote them.
    """
    parts: list[str] = []
    inside_map = inside_tree = False
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        raw = isinstance(part, int) or inside_map or inside_tree
        if raw or (raw_last and index == len(loc) - 1):
            parts.append(str(part))
            inside_map = False
            continue
        parts.append(json_name(part))
        inside_map = part in FREE_MAPS
        inside_tree = part in FREE_TREES
    return "/" + "/".join(escape_pointer_part(p) for p in parts) if parts else ""


def field_pointer(field: str | None) -> str:
    """Return the JSON pointer of a dotted field path such as ``config.test_mode``."""
    if not field:
        return ""
    return pointer(tuple(int(part) if part.isdigit() else part for part in field.split(".")))


def _known_names(model: type[BaseModel]) -> dict[str, str]:
    """Return every accepted spelling of the model's fields, by its lower case."""
    names: dict[str, str] = {}
    for name, info in model.model_fields.items():
        names[name.lower()] = info.alias or to_camel(name)
        names[to_camel(name).lower()] = info.alias or to_camel(name)
    return names


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """Return the model a field holds, directly, optionally or as list elements."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _nested_model(argument)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """Return the model that validates the object at a location, following nested fields."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part)
        current = _nested_model(info.annotation) if info is not None else None
    return current


def _unknown_field_message(model: type[BaseModel], loc: tuple) -> str:
    """Say that a field is not taken, naming the right spelling when only its case differs."""
    field = str(loc[-1])
    where = pointer(loc, raw_last=True).lstrip("/")
    parent = _model_at(model, loc[:-1])
    if parent is not None:
        right = _known_names(parent).get(field.lower())
        if right is not None:
            return f"{where}: unknown field; did you mean “{right}”?"
    return f"{where}: unknown field"


def problems_of(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Turn every validation error into a problem with its code, pointer and message."""
    messages = field_errors(exc)
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        code = code_for_type(error["type"])
        if error["type"] == "extra_forbidden":
            message = _unknown_field_message(model, loc)
            problems.append(Problem(code, pointer(loc, raw_last=True), message))
            continue
        else:
            dotted = ".".join(str(part) for part in loc if part != "[key]")
            key = next((k for k in messages if dotted == k or dotted.startswith(k + ".")), None)
            text = messages.get(key or "", error["msg"])
            message = f"{pointer(loc).lstrip('/') or 'body'}: {text}"
        problems.append(Problem(code, pointer(loc), message))
    return problems


def refusal(exc: ValidationError, model: type[BaseModel]) -> ApiError:
    """Return the 422 answer of a body the model refused."""
    problems = problems_of(exc, model)
    code = error_code(exc)
    first = next((p for p in problems if p.code == code), problems[0])
    return ApiError(422, code, first.message, problems)


def _not_json(constant: str) -> Any:
    """Refuse NaN and Infinity, which JSON (RFC 8259) does not have."""
    raise ValueError(constant)


def _surrogates(value: Any, loc: tuple = ()) -> Iterator[tuple]:
    """Yield the location of every string (key or value) holding a lone surrogate."""
    # "\ud800" parses into a str that no database can store as UTF-8.
    if isinstance(value, str):
        if any(unicodedata.category(ch) == "Cs" for ch in value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if any(unicodedata.category(ch) == "Cs" for ch in key):
                yield (*loc, key.encode("utf-8", "replace").decode())
            else:
                yield from _surrogates(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _surrogates(item, (*loc, index))


def parse_body() -> Any:
    """Return the request body parsed as JSON (empty: an empty object), or raise 1001."""
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw, parse_constant=_not_json) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        message = "body: the request body is not valid JSON"
        raise ApiError(
            422, INVALID_REQUEST, message, [Problem(INVALID_REQUEST, "", message)]
        ) from None
    bad = ["/" + "/".join(escape_pointer_part(str(p)) for p in loc) for loc in _surrogates(data)]
    if bad:
        problems = [
            Problem(INVALID_CHARACTERS, where, f"{where.lstrip('/') or 'body'}: invalid characters")
            for where in bad
        ]
        raise ApiError(422, INVALID_CHARACTERS, problems[0].message, problems)
    return data


def read_json(model: type[M], data: Any = None, *, context: dict | None = None) -> M:
    """Validate the request's JSON body (or the given data) with the model, or raise ApiError.

    A body that is not JSON, or not an object, is 1001; the model's errors are 422 with the
    codes of seed 002 and a pointer each.
    """
    if data is None:
        data = parse_body()
    if not isinstance(data, dict):
        message = "body: the request body must be a JSON object"
        raise ApiError(422, INVALID_REQUEST, message, [Problem(INVALID_REQUEST, "", message)])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise refusal(exc, model) from None


def read_query(model: type[M]) -> M:
    """Validate the query string with the model (pointers name the parameters), or raise."""
    # The first value of a repeated parameter counts, as Flask's `args.get` reads it.
    values = {key: request.args.get(key) for key in request.args}
    return read_json(model, values)


def not_applicable(pointer_: str, message: str) -> ApiError:
    """Return a 1006 refusal: a value that is well-formed but not allowed here."""
    return ApiError(422, NOT_APPLICABLE, message, [Problem(NOT_APPLICABLE, pointer_, message)])
