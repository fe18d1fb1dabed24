"""return addresses per shop; the order items a case is about and the return address it was agreed with

Revision ID: 7c4e1a9b2d10
Revises: 5b1f0c2d9a47
Create Date: 2026-12-10 10:00:00

Upgrades populated tables: cases.item_ids has a server default ('[]': the whole order, as before),
cases.return_address is nullable; return_addresses is a new table.
"""
from alembic import op
import sqlalchemy as sa


revision = '7c4e1a9b2d10'
down_revision = '5b1f0c2d9a47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('return_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('contact', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_return_addresses_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_addresses'))
    )
    with op.batch_alter_table('return_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_addresses_shop_id'), ['shop_id'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_ids', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('return_address', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('return_address')
        batch_op.drop_column('item_ids')
    with op.batch_alter_table('return_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_addresses_shop_id'))
    op.drop_table('return_addresses')
