"""indexes for the mediator overview and the reason analysis: cases by opening and closing time, open cases by
phase and mediator (partial), case events by time (deadline breaches and decisions in a window)

Revision ID: 9c1e5a7d3b20
Revises: b7e4c1d9a2f3
Create Date: 2026-12-01 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '9c1e5a7d3b20'
down_revision = 'b7e4c1d9a2f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_cases_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_cases_open_phase', ['phase', 'mediator_id'], unique=False,
                              postgresql_where=sa.text("phase <> 'closed'"), sqlite_where=sa.text("phase <> 'closed'"))
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('ix_case_events_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_created_at')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_phase')
        batch_op.drop_index('ix_cases_closed_at')
        batch_op.drop_index('ix_cases_created_at')
