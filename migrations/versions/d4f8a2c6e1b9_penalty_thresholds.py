"""penalty thresholds: a points task may add a second penalty row (the restriction or blacklist it caused)

Revision ID: d4f8a2c6e1b9
Revises: a13d5e7f9b2c
Create Date: 2026-12-01 20:40:00
"""
from alembic import op


revision = 'd4f8a2c6e1b9'
down_revision = 'a13d5e7f9b2c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('penalties', schema=None) as batch_op:
        batch_op.drop_constraint('uq_penalties_task_id', type_='unique')
        batch_op.create_unique_constraint('uq_penalties_task_id_kind', ['task_id', 'kind'])


def downgrade():
    # the threshold rows (a second row of a task) cannot stay under one-row-per-task
    op.execute("DELETE FROM penalties WHERE id NOT IN (SELECT min(id) FROM penalties GROUP BY task_id)")
    with op.batch_alter_table('penalties', schema=None) as batch_op:
        batch_op.drop_constraint('uq_penalties_task_id_kind', type_='unique')
        batch_op.create_unique_constraint('uq_penalties_task_id', ['task_id'])
