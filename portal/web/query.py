"""Read values from URLs: bounded ids in routes, and query-string values refused when odd.

Anything a person or a script can type into an address bar reaches here first, so it is
refused before any database sees it: a 404 for an id out of range, a 400 for a query value
with control characters or a number that is not one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from flask import abort, request
from werkzeug.routing import IntegerConverter, Map

#: The largest id a 64-bit signed integer column holds.
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """Database ids in routes (`<int:...>`): ASCII digits, 1 to 2**63 - 1; otherwise a 404."""

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map: Map, *args, **kwargs) -> None:
        """Bound every id to what the database can hold."""
        super().__init__(url_map, min=1, max=MAX_ID)


def has_control_characters(value: str) -> bool:
    """Tell whether text holds control characters (NUL, escapes, line breaks)."""
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def query_text(name: str, max_length: int = 254) -> str:
    """Return a query-string value, trimmed and bounded; 400 when it holds control characters."""
    value = request.args.get(name, "")
    if has_control_characters(value):
        abort(400, description=f"The “{name}” value holds characters that cannot be searched.")
    return value.strip()[:max_length]


def query_id(name: str) -> int | None:
    """Return an id from the query string (a pagination cursor), None when absent; 400 if bad."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID) or len(raw) > 19:
        abort(400, description=f"The “{name}” value is not a valid position in the list.")
    return int(raw)


def page_query(parse_sort: Callable[[str], Any]) -> dict[str, Any]:
    """Read where a sorted list stands from the URL: its sort and its keyset cursors."""
    return {
        "sort": parse_sort(query_text("sort", max_length=40)),
        "after": query_id("after"),
        "before": query_id("before"),
    }
