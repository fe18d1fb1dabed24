"""case reports: the cache of rendered PDF reports (key → SHA-256 in the report store)

Revision ID: f3a9c2d4e6b1
Revises: a1d7e3f05c42
Create Date: 2026-12-01 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a9c2d4e6b1'
down_revision = 'a1d7e3f05c42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_reports',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('audit_head', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_reports_case_id_cases')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_case_reports'))
    )
    with op.batch_alter_table('case_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reports_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_reports_case_id'))
    op.drop_table('case_reports')
