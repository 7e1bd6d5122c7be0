"""Provisioning API: connector API keys encrypted, seed 002's missing fields, meta-connector flows,
merchant details, and idempotency keys.

- connections.api_key (plaintext) becomes api_key_encrypted (a Fernet token like every secret):
  existing values are encrypted here with the app's PORTAL_ENCRYPTION_KEYS (Flask-Migrate runs
  migrations inside the app), and decrypted back on downgrade.
- connections gain vault, provider and the int64 ids of seed 002 (customer profile container,
  risk rule sets).
- customers gain the merchant details of createMerchant.
- flows may hold a meta-connector's routing: meta_connection_id (composite foreign key into the
  same integration, CASCADE), meta_kind and default_action_disable; such a flow may have no
  default connection yet (a multi-method meta-connector has none). Downgrade deletes those
  flows, which earlier revisions cannot represent.
- idempotency_keys: one answer per (API key, Idempotency-Key), unique, kept a day.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:06:42.750430

"""
from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

connections = sa.table(
    'connections',
    sa.column('id', sa.Integer()),
    sa.column('api_key', sa.String()),
    sa.column('api_key_encrypted', sa.Text()),
)


def _box() -> MultiFernet:
    """Return the app's encryption keys, newest first (as portal.core.crypto reads them)."""
    keys = [key.strip() for key in current_app.config['ENCRYPTION_KEYS'].split(',') if key.strip()]
    return MultiFernet([Fernet(key) for key in keys])


def upgrade():
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('response_encrypted', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'done')", name=op.f('ck_idempotency_keys_state')),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_idempotency_keys_api_key_id_api_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('api_key_id', 'key', name=op.f('uq_idempotency_keys_api_key_id_key'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_created_at', ['created_at'], unique=False)

    # Plain ALTER TABLE, never a batch copy: copying connections would drop the table that
    # flows reference, which SQLite's foreign keys refuse (SQLite >= 3.35 alters in place).
    op.add_column('connections', sa.Column('api_key_encrypted', sa.Text(), nullable=True))
    op.add_column('connections', sa.Column('vault', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('connections', sa.Column('customer_profile_container', sa.BigInteger(), nullable=True))
    op.add_column('connections', sa.Column('default_risk_rule_set', sa.BigInteger(), nullable=True))
    op.add_column('connections', sa.Column('vt_risk_rule_set', sa.BigInteger(), nullable=True))
    op.add_column('connections', sa.Column('provider', sa.String(length=100), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.select(connections.c.id, connections.c.api_key).where(connections.c.api_key.is_not(None))).all()
    if rows:
        box = _box()
        for row_id, api_key in rows:
            token = box.encrypt(api_key.encode('utf-8')).decode('ascii')
            bind.execute(connections.update().where(connections.c.id == row_id).values(api_key_encrypted=token))

    op.drop_column('connections', 'api_key')

    for column in (
        sa.Column('external_id', sa.String(length=255), nullable=True),
        sa.Column('homepage', sa.String(length=2000), nullable=True),
        sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('default_currency', sa.String(length=3), nullable=True),
        sa.Column('administrative_email', sa.String(length=254), nullable=True),
        sa.Column('risk_alert_email', sa.String(length=254), nullable=True),
        sa.Column('scheduler_alert_email', sa.String(length=254), nullable=True),
        sa.Column('technical_email', sa.String(length=254), nullable=True),
    ):
        op.add_column('customers', column)

    # flows is referenced by no table, so its batch copy (SQLite) is safe.
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meta_connection_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('meta_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('default_action_disable', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('default_connection_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_flows_meta_connection_id'), ['meta_connection_id'])
        batch_op.create_foreign_key('fk_flows_meta_connection_id_connections', 'connections', ['integration_id', 'meta_connection_id'], ['integration_id', 'id'], ondelete='CASCADE')
        batch_op.create_check_constraint(
            batch_op.f('ck_flows_meta_kind'),
            "meta_kind IS NULL OR meta_kind IN ('routing', 'multi_method')",
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_flows_meta_or_routed'),
            "(meta_connection_id IS NULL AND meta_kind IS NULL AND "
            "default_connection_id IS NOT NULL) OR "
            "(meta_connection_id IS NOT NULL AND meta_kind IS NOT NULL)",
        )


def downgrade():
    # Earlier revisions have no meta-connectors: their flows go.
    op.execute("DELETE FROM flows WHERE meta_connection_id IS NOT NULL")
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_flows_meta_or_routed'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_flows_meta_kind'), type_='check')
        batch_op.drop_constraint('fk_flows_meta_connection_id_connections', type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_flows_meta_connection_id'), type_='unique')
        batch_op.alter_column('default_connection_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('default_action_disable')
        batch_op.drop_column('meta_kind')
        batch_op.drop_column('meta_connection_id')

    # Plain ALTER TABLE: a batch copy of customers would drop the table integrations
    # reference, and SQLite's ON DELETE CASCADE would empty them.
    for column in ('technical_email', 'scheduler_alert_email', 'risk_alert_email',
                   'administrative_email', 'default_currency', 'country', 'timezone',
                   'homepage', 'external_id'):
        op.drop_column('customers', column)

    op.add_column('connections', sa.Column('api_key', sa.VARCHAR(length=255), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.select(connections.c.id, connections.c.api_key_encrypted).where(connections.c.api_key_encrypted.is_not(None))).all()
    if rows:
        box = _box()
        for row_id, token in rows:
            # A key that does not decrypt stops the downgrade: nothing is silently lost.
            api_key = box.decrypt(token.encode('ascii')).decode('utf-8')
            bind.execute(connections.update().where(connections.c.id == row_id).values(api_key=api_key))

    for column in ('provider', 'vt_risk_rule_set', 'default_risk_rule_set',
                   'customer_profile_container', 'vault', 'api_key_encrypted'):
        op.drop_column('connections', column)

    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_created_at')

    op.drop_table('idempotency_keys')
