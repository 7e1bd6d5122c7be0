"""Search indexes beside the models: made by migration 0008, out of reach of the metadata.

Customer names are searched anywhere in the name. A B-tree cannot answer "contains", so:

- SQLite keeps an FTS5 table with the trigram tokenizer, ``customers_search``, over
  ``customers.name_key`` (external content: the index only, rowid = ``customers.id``), kept in
  step by triggers on insert, update of the name and delete;
- PostgreSQL keeps a GIN ``gin_trgm_ops`` index (pg_trgm) on ``customers.name_key``, which the
  planner uses for ``LIKE '%term%'``, and a B-tree over ``public_id COLLATE "C"`` so that an id
  prefix is a range of bytes whatever the database's collation.

Alembic cannot describe a virtual table, its shadow tables, or an index with an operator class,
so autogenerate and the drift test leave these out by name (``include_object``).

A future SQLite batch migration that copies ``customers`` drops its triggers with the old
table: it must create them again (migration 0008 holds their text).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, table

#: The FTS5 table (SQLite only). A lightweight table, not part of the metadata.
customers_search = table("customers_search", column("rowid"), column("name_key"))

#: FTS5 virtual tables and the shadow tables FTS5 makes for each.
SQLITE_SEARCH_TABLES = frozenset(
    f"customers_search{suffix}" for suffix in ("", "_data", "_idx", "_docsize", "_config")
)
#: PostgreSQL indexes made outside the metadata.
POSTGRESQL_SEARCH_INDEXES = frozenset({"ix_customers_name_key_trgm", "ix_customers_public_id_c"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Tell Alembic's autogenerate to leave the search tables and indexes alone."""
    if type_ == "table":
        return name not in SQLITE_SEARCH_TABLES
    if type_ == "index":
        return name not in POSTGRESQL_SEARCH_INDEXES
    return True
