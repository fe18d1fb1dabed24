"""sweep errors on cases and orders: the sweeper records an unexpected failure on the row and backs off

Revision ID: 5b1f0c2d9a47
Revises: 3446b2557e70
Create Date: 2026-12-02 10:00:00

Both columns upgrade populated tables: sweep_error is nullable, sweep_attempts has a server default.
"""
from alembic import op
import sqlalchemy as sa


revision = '5b1f0c2d9a47'
down_revision = '3446b2557e70'
branch_labels = None
depends_on = None

TABLES = ('cases', 'orders')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('sweep_error', sa.String(length=500), nullable=True))
            batch_op.add_column(sa.Column('sweep_attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('sweep_attempts')
            batch_op.drop_column('sweep_error')
