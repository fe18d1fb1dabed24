"""users.session_version (sessions end at logout and on a password change); login failures indexed by
address (throttling across usernames) and by time (pruning)

Revision ID: c5d8e2f1a3b7
Revises: 7c4e1a9b2d10
Create Date: 2026-12-01 17:00:00

Upgrades populated tables: session_version has a server default (1); sessions signed before the upgrade
carry no version and end (users log in again).
"""
from alembic import op
import sqlalchemy as sa


revision = 'c5d8e2f1a3b7'
down_revision = '7c4e1a9b2d10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_remote_addr_at', ['remote_addr', 'at'], unique=False)
        batch_op.create_index('ix_login_failures_at', ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_at')
        batch_op.drop_index('ix_login_failures_remote_addr_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
