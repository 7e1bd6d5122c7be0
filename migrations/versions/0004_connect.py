"""Connect: customers, their integrations (one per network), connections and flows.

A flow's default connection is a composite foreign key (integration_id, default_connection_id)
so the schema itself keeps it inside the flow's integration; RESTRICT keeps a connection that
a flow routes to. Deleting an integration cascades to its connections and flows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:18:23.665319

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_customers_company_id_companies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('public_id', name=op.f('uq_customers_public_id'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_customers_name_key_id', ['name_key', 'id'], unique=False)

    op.create_table('integrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=100), nullable=False),
    sa.Column('network', sa.String(length=100), nullable=False),
    sa.Column('network_key', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('design', 'live')", name=op.f('ck_integrations_type')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_integrations_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrations')),
    sa.UniqueConstraint('customer_id', 'network_key', name=op.f('uq_integrations_customer_id_network_key'))
    )
    op.create_table('connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('adapter', sa.String(length=100), nullable=False),
    sa.Column('method', sa.String(length=100), nullable=False),
    sa.Column('api_key', sa.String(length=255), nullable=True),
    sa.Column('public_integration_key', sa.String(length=255), nullable=True),
    sa.Column('shared_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('business_country', sa.String(length=2), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('username', sa.String(length=255), nullable=True),
    sa.Column('password_encrypted', sa.Text(), nullable=True),
    sa.Column('api_secret_encrypted', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('test_mode', sa.Boolean(), nullable=False),
    sa.Column('extra_data', sa.JSON(), nullable=False),
    sa.Column('disabled_transaction_types', sa.JSON(), nullable=False),
    sa.Column('postback_format', sa.String(length=10), nullable=False),
    sa.Column('scheduler_enabled', sa.Boolean(), nullable=False),
    sa.Column('virtual_terminal_enabled', sa.Boolean(), nullable=False),
    sa.Column('alias', sa.String(length=100), nullable=True),
    sa.Column('terminals', sa.JSON(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("postback_format IN ('inherit', 'json', 'xml')", name=op.f('ck_connections_postback_format')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_connections_integration_id_integrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connections')),
    sa.UniqueConstraint('integration_id', 'id', name=op.f('uq_connections_integration_id_id')),
    sa.UniqueConstraint('integration_id', 'name', name=op.f('uq_connections_integration_id_name')),
    sa.UniqueConstraint('public_id', name=op.f('uq_connections_public_id'))
    )
    op.create_table('flows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('transaction_types', sa.JSON(), nullable=False),
    sa.Column('default_connection_id', sa.Integer(), nullable=False),
    sa.Column('re_route_recurring', sa.Boolean(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('expiry_hours', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expiry_hours BETWEEN 0 AND 8760', name=op.f('ck_flows_expiry_hours')),
    sa.CheckConstraint('retries BETWEEN 0 AND 9', name=op.f('ck_flows_retries')),
    sa.ForeignKeyConstraint(['integration_id', 'default_connection_id'], ['connections.integration_id', 'connections.id'], name=op.f('fk_flows_integration_id_connections'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_flows_integration_id_integrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flows')),
    sa.UniqueConstraint('integration_id', 'name', name=op.f('uq_flows_integration_id_name'))
    )
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.create_index('ix_flows_default_connection_id', ['default_connection_id'], unique=False)



def downgrade():
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_index('ix_flows_default_connection_id')

    op.drop_table('flows')
    op.drop_table('connections')
    op.drop_table('integrations')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_name_key_id')
        batch_op.drop_index(batch_op.f('ix_customers_company_id'))

    op.drop_table('customers')
