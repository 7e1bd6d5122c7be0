"""FlexCharge: merchant settings and credentials, sites, transactions, deliveries, webhook events.

Every table hangs off a customer (CASCADE). Transactions are unique per (customer, order id,
transaction id) so a repeated request creates nothing; deliveries are the outbox of the calls a
background job makes, one per (transaction, kind). Secrets are Fernet tokens (`*_encrypted`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:02:46.265413

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('flexcharge_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('environment', sa.String(length=16), nullable=False),
    sa.Column('mid', sa.String(length=36), nullable=False),
    sa.Column('app_key', sa.String(length=255), nullable=False),
    sa.Column('app_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('app_secret_mask', sa.String(length=64), nullable=False),
    sa.Column('tokenization_key_encrypted', sa.Text(), nullable=True),
    sa.Column('tokenization_key_mask', sa.String(length=64), nullable=True),
    sa.Column('webhook_key_encrypted', sa.Text(), nullable=True),
    sa.Column('webhook_key_mask', sa.String(length=64), nullable=True),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('access_token_encrypted', sa.Text(), nullable=True),
    sa.Column('access_token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("environment IN ('production', 'sandbox')", name=op.f('ck_flexcharge_credentials_environment')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_flexcharge_credentials_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flexcharge_credentials')),
    sa.UniqueConstraint('customer_id', 'environment', name=op.f('uq_flexcharge_credentials_customer_id_environment'))
    )
    op.create_table('flexcharge_settings',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enabled_by_label', sa.String(length=254), nullable=True),
    sa.Column('cit_website', sa.String(length=16), nullable=False),
    sa.Column('cit_call_center', sa.String(length=16), nullable=False),
    sa.Column('mit', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("cit_call_center IN ('off', 'sandbox', 'production')", name=op.f('ck_flexcharge_settings_cit_call_center')),
    sa.CheckConstraint("cit_website IN ('off', 'sandbox', 'production')", name=op.f('ck_flexcharge_settings_cit_website')),
    sa.CheckConstraint("mit IN ('off', 'sandbox', 'production')", name=op.f('ck_flexcharge_settings_mit')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_flexcharge_settings_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_flexcharge_settings'))
    )
    op.create_table('flexcharge_sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=255), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('descriptor', sa.String(length=100), nullable=False),
    sa.Column('descriptor_key', sa.String(length=100), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_flexcharge_sites_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flexcharge_sites')),
    sa.UniqueConstraint('customer_id', 'descriptor_key', name=op.f('uq_flexcharge_sites_customer_id_descriptor_key')),
    sa.UniqueConstraint('customer_id', 'host', name=op.f('uq_flexcharge_sites_customer_id_host'))
    )
    op.create_table('transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('key_environment', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.String(length=100), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('response_code', sa.String(length=50), nullable=True),
    sa.Column('response_description', sa.String(length=255), nullable=True),
    sa.Column('processor_name', sa.String(length=100), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('initiator', sa.String(length=3), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('profile', sa.String(length=16), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('site_url', sa.String(length=255), nullable=True),
    sa.Column('descriptor', sa.String(length=100), nullable=True),
    sa.Column('customer_ip', sa.String(length=45), nullable=True),
    sa.Column('payer', sa.JSON(), nullable=False),
    sa.Column('billing', sa.JSON(), nullable=True),
    sa.Column('card_brand', sa.String(length=30), nullable=True),
    sa.Column('card_bin', sa.String(length=8), nullable=True),
    sa.Column('card_last4', sa.String(length=4), nullable=True),
    sa.Column('card_exp_month', sa.Integer(), nullable=True),
    sa.Column('card_exp_year', sa.Integer(), nullable=True),
    sa.Column('card_holder', sa.String(length=100), nullable=True),
    sa.Column('environment', sa.String(length=16), nullable=True),
    sa.Column('transmit_state', sa.String(length=16), nullable=False),
    sa.Column('transmit_reason', sa.String(length=40), nullable=True),
    sa.Column('transmit_id', sa.String(length=100), nullable=True),
    sa.Column('evaluate_state', sa.String(length=16), nullable=True),
    sa.Column('evaluate_reason', sa.String(length=255), nullable=True),
    sa.Column('evaluate_status', sa.String(length=32), nullable=True),
    sa.Column('order_session_key', sa.String(length=100), nullable=True),
    sa.Column('idempotency_key', sa.String(length=36), nullable=True),
    sa.Column('payment_token_encrypted', sa.Text(), nullable=True),
    sa.Column('order_status', sa.String(length=32), nullable=True),
    sa.Column('order_status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.CheckConstraint("initiator IN ('CIT', 'MIT')", name=op.f('ck_transactions_initiator')),
    sa.CheckConstraint("profile IN ('cit_website', 'cit_call_center', 'mit')", name=op.f('ck_transactions_profile')),
    sa.CheckConstraint("status IN ('approved', 'declined')", name=op.f('ck_transactions_status')),
    sa.CheckConstraint("transmit_state IN ('pending', 'sent', 'not_sent', 'failed')", name=op.f('ck_transactions_transmit_state')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_transactions_amount')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_transactions_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['flexcharge_sites.id'], name=op.f('fk_transactions_site_id_flexcharge_sites'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transactions')),
    sa.UniqueConstraint('customer_id', 'order_id', 'external_id', name=op.f('uq_transactions_customer_id_order_id_external_id'))
    )
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.create_index('ix_transactions_customer_id_id', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_transactions_occurred_on_id', ['occurred_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transactions_order_session_key'), ['order_session_key'], unique=False)
        batch_op.create_index('ix_transactions_site_id', ['site_id'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('environment', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('transmit', 'evaluate')", name=op.f('ck_deliveries_kind')),
    sa.CheckConstraint("state IN ('pending', 'in_progress', 'delivered', 'failed')", name=op.f('ck_deliveries_state')),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_deliveries_transaction_id_transactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('transaction_id', 'kind', name=op.f('uq_deliveries_transaction_id_kind'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)

    op.create_table('flexcharge_webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=100), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_flexcharge_webhook_events_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_flexcharge_webhook_events_transaction_id_transactions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flexcharge_webhook_events')),
    sa.UniqueConstraint('customer_id', 'event', 'order_id', name=op.f('uq_flexcharge_webhook_events_customer_id_event_order_id'))
    )
    with op.batch_alter_table('flexcharge_webhook_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flexcharge_webhook_events_transaction_id'), ['transaction_id'], unique=False)



def downgrade():
    with op.batch_alter_table('flexcharge_webhook_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flexcharge_webhook_events_transaction_id'))

    op.drop_table('flexcharge_webhook_events')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_state_next_attempt_at')

    op.drop_table('deliveries')
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_transactions_site_id')
        batch_op.drop_index(batch_op.f('ix_transactions_order_session_key'))
        batch_op.drop_index('ix_transactions_occurred_on_id')
        batch_op.drop_index('ix_transactions_customer_id_id')

    op.drop_table('transactions')
    op.drop_table('flexcharge_sites')
    op.drop_table('flexcharge_settings')
    op.drop_table('flexcharge_credentials')
