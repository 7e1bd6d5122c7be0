"""Sorted lists: a sort named in the URL, and keyset pagination that follows it.

A list declares the sorts it offers as a mapping from a key ("name", "created") to the columns
that order it, the last of which is unique (the primary key), so that every row has one place.
``parse_sort`` reads "name" (ascending) or "-name" (descending) and falls back to the list's
default for anything else. ``keyset_page`` pages by keyset on those columns in either direction:
the cursor is the id of the row a page ends (or starts) at, so a page costs the same at any
depth and no COUNT(*) is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from portal.extensions import db

Columns = Sequence[ColumnElement[Any]]
T = TypeVar("T")

#: Stands in for a time never set (last used, last verified) so such rows sort as the oldest;
#: a NULL would drop out of the keyset comparison.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Sort:
    """A list's order: the key of one of its sorts, and the direction."""

    key: str
    descending: bool = False

    @property
    def token(self) -> str:
        """Return the sort as the URL writes it ("name" or "-name")."""
        return f"-{self.key}" if self.descending else self.key

    def toggled(self, key: str) -> str:
        """Return the URL token of a click on a column: flip this one, start another ascending."""
        return Sort(key, not self.descending).token if key == self.key else key


def parse_sort(raw: str | None, sorts: Mapping[str, Any], default: str) -> Sort:
    """Read "key" or "-key"; anything that is not one of the list's sorts gives the default."""
    raw = (raw or "").strip()
    descending = raw.startswith("-")
    key = raw[1:] if descending else raw
    if key not in sorts:
        default_descending = default.startswith("-")
        return Sort(default.lstrip("-"), default_descending)
    return Sort(key, descending)


def order_by(columns: Columns, descending: bool) -> list[ColumnElement[Any]]:
    """Return ORDER BY terms for the columns, every one in the same direction."""
    return [column.desc() if descending else column.asc() for column in columns]


def _beyond(columns: Columns, values: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Return "the row comes after this mark" in the scan's order.

    A row-value comparison, (a, b) > (x, y), which SQLite and PostgreSQL answer with one seek
    on an index over the same columns.
    """
    key, mark = tuple_(*columns), tuple_(*values)
    return key < mark if descending else key > mark


@dataclass(frozen=True)
class KeysetPage:
    """One page of rows, and the cursors of the pages either side (None at the ends)."""

    rows: list[Any]
    next_after: int | None
    previous_before: int | None


def keyset_page(
    query: Select,
    id_column: ColumnElement[Any],
    columns: Columns,
    sort: Sort,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int,
) -> KeysetPage:
    """Return the page after (or before) the row with that id, in the sort's order.

    ``columns`` end with ``id_column``; a cursor that names no row starts from the top.
    """
    cursor_id = after if after is not None else before
    mark = None
    if cursor_id is not None:
        mark = db.session.execute(select(*columns).where(id_column == cursor_id)).first()
    backwards = mark is not None and after is None
    scan_descending = sort.descending != backwards
    if mark is not None:
        query = query.where(_beyond(columns, tuple(mark), scan_descending))
    query = query.order_by(*order_by(columns, scan_descending)).limit(limit + 1)
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        return KeysetPage(
            rows=rows,
            next_after=rows[-1].id if rows else None,
            previous_before=rows[0].id if more and rows else None,
        )
    return KeysetPage(
        rows=rows,
        next_after=rows[-1].id if more and rows else None,
        previous_before=rows[0].id if mark is not None and rows else None,
    )


@dataclass(frozen=True)
class SortedPage(Generic[T]):
    """One page of a sorted list, the cursors of its neighbours (None at the ends), its sort."""

    rows: list[T]
    next_after: int | None
    previous_before: int | None
    sort: Sort


def sorted_page(
    query: Select,
    id_column: ColumnElement[Any],
    sorts: Mapping[str, Columns],
    sort: Sort,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int,
) -> SortedPage:
    """Return a page of a list in one of the sorts it offers (see ``keyset_page``)."""
    page = keyset_page(
        query, id_column, sorts[sort.key], sort, after=after, before=before, limit=limit
    )
    return SortedPage(page.rows, page.next_after, page.previous_before, sort)
