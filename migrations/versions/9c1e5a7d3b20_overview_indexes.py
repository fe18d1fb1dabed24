"""index for the mediator overview: open cases by phase and mediator (partial). The time indexes the overview
and the reason analysis read (cases by opening and closing time, case events by time) come with the
metrics rollup's migration, c4d8e2f1a9b7.

Revision ID: 9c1e5a7d3b20
Revises: c4d8e2f1a9b7
Create Date: 2026-12-01 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '9c1e5a7d3b20'
down_revision = 'c4d8e2f1a9b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_open_phase', ['phase', 'mediator_id'], unique=False,
                              postgresql_where=sa.text("phase <> 'closed'"), sqlite_where=sa.text("phase <> 'closed'"))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_phase')
