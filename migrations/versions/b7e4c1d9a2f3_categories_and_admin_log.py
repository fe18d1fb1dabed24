"""categories on shops and cases; the admin audit log; after-sales ratings; malicious-buyer finding

Shops get a main category (主营类目, metrics compare a shop with its category) set from their most
common listing category; cases get the goods' category (the order's first item, or the listing).

Revision ID: b7e4c1d9a2f3
Revises: f3a9c2d4e6b1
Create Date: 2026-12-01 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e4c1d9a2f3'
down_revision = 'f3a9c2d4e6b1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=32), server_default='home', nullable=False))
        batch_op.create_index(batch_op.f('ix_shops_category'), ['category'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('buyer_malicious', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_cases_category'), ['category'], unique=False)
    op.execute("""
        UPDATE shops SET category = COALESCE((
            SELECT p.category FROM products p WHERE p.shop_id = shops.id
            GROUP BY p.category ORDER BY count(*) DESC, p.category LIMIT 1), 'home')""")
    op.execute("""
        UPDATE cases SET category = COALESCE(
            (SELECT oi.category FROM order_items oi WHERE oi.order_id = cases.order_id ORDER BY oi.id LIMIT 1),
            (SELECT p.category FROM products p WHERE p.id = cases.listing_id))""")
    op.create_table('case_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_case_ratings_score_range')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_ratings_case_id_cases')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_case_ratings_buyer_id_users')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_case_ratings_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_ratings')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_ratings_case_id'))
    )
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_ratings_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index('ix_case_ratings_shop_created', ['shop_id', 'created_at'], unique=False)
    op.create_table('admin_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_admin_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_admin_events_hash'))
    )
    with op.batch_alter_table('admin_events', schema=None) as batch_op:
        batch_op.create_index('ix_admin_events_target', ['target_type', 'target_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('admin_events', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_events_target')
    op.drop_table('admin_events')
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_case_ratings_shop_created')
        batch_op.drop_index(batch_op.f('ix_case_ratings_buyer_id'))
    op.drop_table('case_ratings')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_category'))
        batch_op.drop_column('buyer_malicious')
        batch_op.drop_column('category')
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shops_category'))
        batch_op.drop_column('category')
