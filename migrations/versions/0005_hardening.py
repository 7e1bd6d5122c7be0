"""Hardening: a tamper-evident audit trail and lookalike-proof connection and flow names.

- audit_events gains prev_hash and hash (a SHA-256 chain over each event's content), and
  audit_chain_head holds the newest hash; existing events are chained here, in id order, with
  the same canonical encoding as portal.services.audit.event_hash. Triggers make the table
  refuse UPDATE and DELETE on PostgreSQL and SQLite.
- connections and flows gain name_key (NFKC, spaces collapsed, case-folded), unique per
  integration instead of the exact name. Existing names that now collide get " (2)", " (3)"...

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 01:00:54.603005

"""
import hashlib
import json
import unicodedata
from datetime import UTC

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)
POSTGRESQL_TRIGGERS = (
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
)

audit_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("actor_label", sa.String),
    sa.column("ip", sa.String),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("object_label", sa.String),
    sa.column("outcome", sa.String),
    sa.column("changes", sa.JSON),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def name_key(name):
    """Return the unique key of a name, as portal.core.names.name_key does today."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def event_hash(row, prev_hash):
    """Return an event's hash, as portal.services.audit.event_hash does today."""
    created_at = row.created_at
    created_at = (
        created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at.astimezone(UTC)
    )
    content = {
        "created_at": created_at.isoformat(),
        "actor_id": row.actor_id,
        "actor_label": row.actor_label,
        "ip": row.ip,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "object_label": row.object_label,
        "outcome": row.outcome,
        "changes": row.changes,
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}:{encoded}".encode()).hexdigest()


def fill_name_keys(table_name):
    """Give every row its name key; rename a later lookalike so the keys stay unique."""
    table = sa.table(
        table_name,
        sa.column("id", sa.Integer),
        sa.column("integration_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )
    connection = op.get_bind()
    taken = set()
    for row in connection.execute(sa.select(table).order_by(table.c.id)):
        name, suffix = row.name, 1
        while (row.integration_id, name_key(name)) in taken:
            suffix += 1
            name = f"{row.name[:95]} ({suffix})"
        taken.add((row.integration_id, name_key(name)))
        connection.execute(
            table.update().where(table.c.id == row.id).values(name=name, name_key=name_key(name))
        )


def chain_existing_events():
    """Chain the events recorded before this revision, oldest first; return the head."""
    connection = op.get_bind()
    prev_hash, last_id = GENESIS_HASH, 0
    for row in connection.execute(sa.select(audit_events).order_by(audit_events.c.id)).all():
        digest = event_hash(row, prev_hash)
        connection.execute(
            audit_events.update()
            .where(audit_events.c.id == row.id)
            .values(prev_hash=prev_hash, hash=digest)
        )
        prev_hash, last_id = digest, row.id
    return last_id, prev_hash


def upgrade():
    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    last_id, last_hash = chain_existing_events()
    op.bulk_insert(head, [{"id": 1, "last_id": last_id, "last_hash": last_hash}])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_hash'), ['hash'])

    for table_name in ('connections', 'flows'):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('name_key', sa.String(length=100), nullable=True))
        fill_name_keys(table_name)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column('name_key', existing_type=sa.String(length=100), nullable=False)
            batch_op.drop_constraint(batch_op.f(f'uq_{table_name}_integration_id_name'), type_='unique')
            batch_op.create_unique_constraint(
                batch_op.f(f'uq_{table_name}_integration_id_name_key'), ['integration_id', 'name_key']
            )

    # Last: batch operations on SQLite copy the table, which would drop these.
    triggers = POSTGRESQL_TRIGGERS if op.get_bind().dialect.name == 'postgresql' else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")

    for table_name in ('flows', 'connections'):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f'uq_{table_name}_integration_id_name_key'), type_='unique'
            )
            batch_op.create_unique_constraint(
                batch_op.f(f'uq_{table_name}_integration_id_name'), ['integration_id', 'name']
            )
            batch_op.drop_column('name_key')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_hash'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

    op.drop_table('audit_chain_head')
