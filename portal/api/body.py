"""Read a JSON request body into an input model, or refuse it listing every problem.

The input models of ``portal/schemas/`` validate the JSON APIs as they validate the HTML forms.
Here a ``ValidationError`` becomes seed 002's answer: HTTP 422, the most fundamental error code
(``schemas.base.error_code``), and one problem per field with a JSON pointer in the client's own
spelling (camelCase), so a client fixes everything in one round.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from portal.api.errors import INVALID_REQUEST, NOT_APPLICABLE, ApiError, Problem
from portal.schemas.base import code_for_type, error_code, field_errors

M = TypeVar("M", bound=BaseModel)


def escape_pointer_part(part: str) -> str:
    """Escape one reference token of a JSON pointer (RFC 6901)."""
    return part.replace("~", "~0").replace("/", "~1")


FREE_MAPS = frozenset({"settings", "extra_data"})


def pointer(loc: tuple, *, raw_last: bool = False) -> str:
    """Return the JSON pointer of an error location, field names in camelCase.

    Keys inside a free-form map (settings, extra data), and an unknown field (``raw_last``),
    stay as the client wrote them.
    """
    parts: list[str] = []
    inside_map = False
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        if isinstance(part, int) or inside_map or (raw_last and index == len(loc) - 1):
            parts.append(str(part))
            inside_map = False
            continue
        parts.append(to_camel(part))
        inside_map = part in FREE_MAPS
    return "/" + "/".join(escape_pointer_part(p) for p in parts) if parts else ""


def _known_names(model: type[BaseModel]) -> dict[str, str]:
    """Return every accepted spelling of the model's top-level fields, by its lower case."""
    names: dict[str, str] = {}
    for name, info in model.model_fields.items():
        names[name.lower()] = info.alias or to_camel(name)
        names[to_camel(name).lower()] = info.alias or to_camel(name)
    return names


def _unknown_field_message(model: type[BaseModel], loc: tuple) -> str:
    """Say that a field is not taken, naming the right spelling when only its case differs."""
    field = str(loc[-1])
    if len(loc) == 1:
        right = _known_names(model).get(field.lower())
        if right is not None:
            return f"{field}: unknown field; did you mean “{right}”?"
    return f"{field}: unknown field"


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


def read_json(model: type[M], data: Any = None, *, context: dict | None = None) -> M:
    """Validate the request's JSON body (or the given data) with the model, or raise ApiError.

    A body that is not JSON, or not an object, is 1001; the model's errors are 422 with the
    codes of seed 002 and a pointer each.
    """
    if data is None:
        raw = request.get_data(cache=True)
        try:
            data = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise ApiError(
                422,
                INVALID_REQUEST,
                "body: the request body is not valid JSON",
                [Problem(INVALID_REQUEST, "", "body: the request body is not valid JSON")],
            ) from None
    if not isinstance(data, dict):
        message = "body: the request body must be a JSON object"
        raise ApiError(422, INVALID_REQUEST, message, [Problem(INVALID_REQUEST, "", message)])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise refusal(exc, model) from None


def not_applicable(pointer_: str, message: str) -> ApiError:
    """Return a 1006 refusal: a value that is well-formed but not allowed here."""
    return ApiError(422, NOT_APPLICABLE, message, [Problem(NOT_APPLICABLE, pointer_, message)])
