"""audit anchor log: one insert-only row per case event, refusing UPDATE and DELETE

Revision ID: a1d7e3f05c42
Revises: c5d8e2f1a3b7
Create Date: 2026-12-01 17:00:00

Each anchor's chain_hash links it to the anchor before it (by id, across cases). The log is filled from
the events already stored (their chain is trusted as it stands at upgrade: run
`flask audit verify` before upgrading). Triggers refuse UPDATE and DELETE on every database, and TRUNCATE
on PostgreSQL; production should also REVOKE UPDATE, DELETE, TRUNCATE on it from the application's role.
"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = 'a1d7e3f05c42'
down_revision = 'c5d8e2f1a3b7'
branch_labels = None
depends_on = None

REFUSED = "audit_anchors is append-only"


def upgrade():
    op.create_table('audit_anchors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_audit_anchors_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchors')),
    sa.UniqueConstraint('case_id', 'seq', name='uq_audit_anchors_case_seq')
    )
    conn, prev = op.get_bind(), ""
    events = conn.execute(sa.text("SELECT case_id, seq, hash, created_at FROM case_events ORDER BY id")).all()
    for case_id, seq, head, created_at in events:  # as app/cases/audit.py anchor_hash, frozen here
        prev = hashlib.sha256(f"{prev}:{case_id}:{seq}:{head}:{seq}".encode()).hexdigest()
        conn.execute(sa.text("INSERT INTO audit_anchors (case_id, seq, head_hash, event_count, chain_hash, created_at) "
                             "VALUES (:c, :s, :h, :s, :x, :t)"),
                     {"c": case_id, "s": seq, "h": head, "x": prev, "t": created_at})
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION audit_anchors_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{REFUSED}'; END $$")
        op.execute("CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors "
                   "FOR EACH ROW EXECUTE FUNCTION audit_anchors_append_only()")
        op.execute("CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_anchors_append_only()")
    else:
        for change in ("update", "delete"):
            op.execute(f"CREATE TRIGGER audit_anchors_no_{change} BEFORE {change.upper()} ON audit_anchors "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END")


def downgrade():
    op.drop_table('audit_anchors')  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_anchors_append_only()")
