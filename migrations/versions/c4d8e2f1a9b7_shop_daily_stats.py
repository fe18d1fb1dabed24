"""shop_daily_stats: the daily rollup behind the seller service metrics

Revision ID: c4d8e2f1a9b7
Revises: b7e4c1d9a2f3
Create Date: 2026-12-01 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c4d8e2f1a9b7'
down_revision = 'b7e4c1d9a2f3'
branch_labels = None
depends_on = None

COUNTS = ('paid_orders', 'complaints', 'refunds', 'dispute_refunds', 'timeout_refunds', 'agreed_refunds',
          'breaches', 'responses', 'ratings', 'rating_sum') + tuple(f'r{i}' for i in range(11))

INDEXES = (('orders', 'paid_at'), ('cases', 'created_at'), ('cases', 'closed_at'), ('cases', 'updated_at'),
           ('case_events', 'created_at'))


def upgrade():
    op.create_table('shop_daily_stats',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_shop_daily_stats_shop_id_shops')),
    sa.PrimaryKeyConstraint('shop_id', 'day', name=op.f('pk_shop_daily_stats'))
    )
    with op.batch_alter_table('shop_daily_stats', schema=None) as batch_op:
        batch_op.create_index('ix_shop_daily_stats_day', ['day', 'shop_id'], unique=False)
    for table, column in INDEXES:
        op.create_index(f'ix_{table}_{column}', table, [column], unique=False)


def downgrade():
    for table, column in INDEXES:
        op.drop_index(f'ix_{table}_{column}', table_name=table)
    with op.batch_alter_table('shop_daily_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_shop_daily_stats_day')
    op.drop_table('shop_daily_stats')
