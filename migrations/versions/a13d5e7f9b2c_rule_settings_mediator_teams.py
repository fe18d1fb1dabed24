"""the admin console: rule settings stored in the database, mediator teams by category

Revision ID: a13d5e7f9b2c
Revises: 9c1e5a7d3b20
Create Date: 2026-12-01 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a13d5e7f9b2c'
down_revision = '9c1e5a7d3b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rule_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_rule_settings_updated_by_users')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rule_settings'))
    )
    op.create_table('mediator_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediator_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_mediator_teams_name'))
    )
    op.create_table('mediator_team_categories',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['mediator_teams.id'],
                            name=op.f('fk_mediator_team_categories_team_id_mediator_teams')),
    sa.PrimaryKeyConstraint('team_id', 'category', name=op.f('pk_mediator_team_categories'))
    )
    with op.batch_alter_table('mediator_team_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediator_team_categories_category'), ['category'], unique=False)
    op.create_table('mediator_team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['mediator_teams.id'],
                            name=op.f('fk_mediator_team_members_team_id_mediator_teams')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mediator_team_members_user_id_users')),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_mediator_team_members'))
    )
    with op.batch_alter_table('mediator_team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediator_team_members_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('mediator_team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediator_team_members_user_id'))
    op.drop_table('mediator_team_members')
    with op.batch_alter_table('mediator_team_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediator_team_categories_category'))
    op.drop_table('mediator_team_categories')
    op.drop_table('mediator_teams')
    op.drop_table('rule_settings')
