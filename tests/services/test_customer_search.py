"""Customer search through trigram indexes: the same answers as LIKE, from the index.

SQLite searches names through the FTS5 table of migration 0008, PostgreSQL through its pg_trgm
GIN index; ids by prefix through an index over them. The reference for "the same answers" is
the query every search ran before: LIKE on the name key and on the public id.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, or_, select, text, update

from portal.core.names import name_key
from portal.extensions import db
from portal.models import Customer
from portal.services import customers
from tests import factories

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("app_context")]

NAMES = [
    "Alpha Payments",
    "ALPHA  beta",
    "Straße Pay",
    "Ünïcödé GmbH",
    "日本語の会社",
    "100% Pay",
    "under_score Ltd",
    'Quote "Double" Co',
    "O'Brien's",
    "back\\slash",
    "ab",
    "Acme-12 Holdings",
    "near AND (or) *star* ^caret -minus {col}:x",
]
TERMS = [
    "pay",
    "PAY",
    "  pay  ",
    "ay",
    "a",
    "%",
    "0%",
    "_",
    "r_s",
    '"',
    '"double"',
    "'",
    "o'brien",
    "straße",
    "STRASSE",
    "ünï",
    "ÜNÏCÖDÉ",
    "日本",
    "日本語",
    "\\",
    "back\\s",
    "alpha beta",
    "zzqx",
    "me",
    "ME-",
    "m",
    "me-12",
    "acme-12",
    "*",
    "star*",
    "AND",
    "(or)",
    "-minus",
    "^caret",
    "{col}:",
    "x" * 1000,
]


def like_reference(search: str) -> list[str]:
    """Return the names the search found before trigram indexes, in the list's order."""

    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    term = search.strip()
    query = select(Customer.name).where(
        or_(
            Customer.name_key.like(f"%{escape(name_key(term))}%", escape="\\"),
            Customer.public_id.like(f"{escape(term.upper())}%", escape="\\"),
        )
    )
    return list(db.session.scalars(query.order_by(Customer.name_key, Customer.id)))


def found(search: str, **kwargs) -> list[str]:
    """Return the names the service finds, in the list's order."""
    return [c.name for c in customers.list_customers(search, limit=100, **kwargs).rows]


@pytest.fixture(params=["gathered", "walked"])
def plan(request, monkeypatch) -> str:
    """Run a test on each of the SQLite plans: matches gathered by id, or the sort's index walked.

    A threshold of 1 makes every non-empty match set "many". PostgreSQL's planner chooses for
    itself, so there both runs ask the same question.
    """
    if request.param == "walked":
        monkeypatch.setattr(customers, "GATHER_LIMIT", 1)
    return request.param


@pytest.fixture
def statements() -> Iterator[list[tuple[str, object]]]:
    """Record the SQL statements (and their parameters) that the test runs."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def is_sqlite() -> bool:
    """Tell whether the test database is SQLite."""
    return db.session.get_bind().dialect.name == "sqlite"


def test_search_answers_as_like_did_for_tricky_terms(plan) -> None:
    made = [factories.make_customer(name) for name in NAMES]
    terms = [*TERMS, made[0].public_id[:12], made[0].public_id[:12].lower(), made[1].public_id]
    for term in terms:
        assert found(term) == like_reference(term), term
    # The cases that matter, spelled out.
    assert found("STRASSE") == ["Straße Pay"]
    assert found("%") == ["100% Pay"]
    assert found("_") == ["under_score Ltd"]
    assert found('"double"') == ['Quote "Double" Co']
    assert found(made[1].public_id.lower()) == [made[1].name]
    assert found("zzqx") == []
    assert found("x" * 1000) == []


def test_a_search_pages_by_keyset_in_every_sort(plan) -> None:
    for index in range(12):
        factories.make_customer(f"Page match {index:02d}")
        factories.make_customer(f"Other {index:02d}")
    for token in ("name", "-name", "created", "-created"):
        sort = customers.parse_sort(token)
        expected = found("match", sort=sort)
        assert len(expected) == 12
        pages = [customers.list_customers("match", sort=sort, limit=5)]
        while pages[-1].next_after is not None:
            pages.append(
                customers.list_customers("match", sort=sort, after=pages[-1].next_after, limit=5)
            )
        assert [c.name for page in pages for c in page.rows] == expected
        back = customers.list_customers(
            "match", sort=sort, before=pages[-1].previous_before, limit=5
        )
        assert [c.name for c in back.rows] == expected[5:10]


def test_the_index_follows_inserts_renames_and_deletes() -> None:
    customer = factories.make_customer("Zephyr Trading")
    assert found("phyr") == ["Zephyr Trading"]
    db.session.execute(
        update(Customer)
        .where(Customer.id == customer.id)
        .values(name="Quasar Trading", name_key=name_key("Quasar Trading"))
    )
    db.session.commit()
    assert found("phyr") == []
    assert found("uasa") == ["Quasar Trading"]
    db.session.delete(db.session.get(Customer, customer.id))
    db.session.commit()
    assert found("uasa") == []
    if is_sqlite():
        # The FTS5 table itself, not only what the service makes of it.
        rows = db.session.execute(text("SELECT rowid FROM customers_search")).all()
        assert rows == []


def plans(statements, *, postgresql_settings: tuple[str, ...] = ()) -> str:
    """Return the query plans of the recorded queries, one after another."""
    recorded = [(sql, params) for sql, params in statements if sql.lstrip().startswith("SELECT")]
    sqlite = is_sqlite()
    connection = db.session.connection()
    for setting in postgresql_settings:
        if not sqlite:
            connection.execute(text(f"SET LOCAL {setting} = off"))
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    lines = []
    for statement, parameters in recorded:
        for row in connection.exec_driver_sql(explain + statement, parameters):
            lines.append(" ".join(str(value) for value in row))
    return "\n".join(lines)


def test_a_name_search_reads_the_trigram_index(statements) -> None:
    factories.make_customer("Zephyr Trading")
    factories.make_customer("Quasar Trading")
    statements.clear()
    customers.list_customers("ephy")
    # Only bitmap scans are left to PostgreSQL, and LIKE '%...%' can use none but the GIN
    # index: the plan is the same whatever the table's size and statistics.
    plan = plans(statements, postgresql_settings=("enable_seqscan", "enable_indexscan"))
    if is_sqlite():
        assert "SCAN customers_search VIRTUAL TABLE" in plan
    else:
        assert "ix_customers_name_key_trgm" in plan


def test_an_id_search_reads_the_id_index(statements) -> None:
    customer = factories.make_customer("Zephyr Trading")
    statements.clear()
    assert found(customer.public_id[:12].lower()) == ["Zephyr Trading"]
    plan = plans(
        statements,
        postgresql_settings=("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"),
    )
    if is_sqlite():
        assert "(public_id>? AND public_id<?)" in plan
    else:
        assert "ix_customers_public_id_c" in plan


def test_postgresql_plans_each_search_with_its_own_term() -> None:
    """A generic plan, cached once psycopg prepares the statement, cannot use the term."""
    if is_sqlite():
        pytest.skip("SQLite plans every statement it runs")
    for index in range(30):
        factories.make_customer(f"Customer {index:02d}")
    db.session.execute(text("ANALYZE customers"))
    for _ in range(12):
        assert customers.list_customers("zzqx").rows == []
    generic = db.session.scalar(
        text(
            "SELECT sum(generic_plans) FROM pg_prepared_statements"
            " WHERE statement LIKE '%customers.name_key LIKE%'"
        )
    )
    assert generic == 0
