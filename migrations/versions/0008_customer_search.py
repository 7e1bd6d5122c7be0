"""Customer search that stays fast at any size: trigram indexes on the name, ids by prefix.

SQLite: an FTS5 table with the trigram tokenizer over ``customers.name_key`` (external content,
rowid = customer id), filled from the existing rows and kept in step by triggers. The key is
already case-folded in Python, so the tokenizer is case-sensitive: a match is exactly a
substring of the key, as ``LIKE '%term%'`` was.

PostgreSQL: pg_trgm's GIN index on ``name_key`` (used by ``LIKE '%term%'`` for 3+ characters)
and a B-tree on ``public_id COLLATE "C"`` for id prefixes searched as a byte range.
The extension is trusted since PostgreSQL 13, so the database owner may create it.

Neither is in the models (see portal/models/search.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 04:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE customers_search USING fts5("
    "name_key, content='customers', content_rowid='id', tokenize='trigram case_sensitive 1')",
    "INSERT INTO customers_search(customers_search) VALUES ('rebuild')",
    "CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN"
    " INSERT INTO customers_search(rowid, name_key) VALUES (new.id, new.name_key);"
    " END",
    # External content: FTS5 forgets a row only when told the values it indexed.
    "CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN"
    " INSERT INTO customers_search(customers_search, rowid, name_key)"
    " VALUES ('delete', old.id, old.name_key);"
    " END",
    "CREATE TRIGGER customers_search_update AFTER UPDATE OF id, name_key ON customers BEGIN"
    " INSERT INTO customers_search(customers_search, rowid, name_key)"
    " VALUES ('delete', old.id, old.name_key);"
    " INSERT INTO customers_search(rowid, name_key) VALUES (new.id, new.name_key);"
    " END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER customers_search_update",
    "DROP TRIGGER customers_search_delete",
    "DROP TRIGGER customers_search_insert",
    "DROP TABLE customers_search",
)
POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_customers_name_key_trgm ON customers USING gin (name_key gin_trgm_ops)",
    'CREATE INDEX ix_customers_public_id_c ON customers (public_id COLLATE "C")',
)
# The extension stays: other objects of the database may use it.
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX ix_customers_public_id_c",
    "DROP INDEX ix_customers_name_key_trgm",
)


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        _run(SQLITE_UPGRADE)
    elif dialect == 'postgresql':
        _run(POSTGRESQL_UPGRADE)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        _run(SQLITE_DOWNGRADE)
    elif dialect == 'postgresql':
        _run(POSTGRESQL_DOWNGRADE)
