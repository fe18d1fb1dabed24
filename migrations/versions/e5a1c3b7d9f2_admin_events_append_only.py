"""admin audit log append-only: triggers refuse UPDATE and DELETE on admin_events (and TRUNCATE on PostgreSQL)

The hash chain shows an edited row, but not the newest rows cut off (attack review): as for the case events'
anchor log, the database itself now refuses to change or remove a row. Production should also REVOKE UPDATE,
DELETE, TRUNCATE on it from the application's role.

Revision ID: e5a1c3b7d9f2
Revises: d4f8a2c6e1b9
Create Date: 2026-12-01 21:30:00
"""
from alembic import op


revision = 'e5a1c3b7d9f2'
down_revision = 'd4f8a2c6e1b9'
branch_labels = None
depends_on = None

REFUSED = "admin_events is append-only"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION admin_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{REFUSED}'; END $$")
        op.execute("CREATE TRIGGER admin_events_append_only BEFORE UPDATE OR DELETE ON admin_events "
                   "FOR EACH ROW EXECUTE FUNCTION admin_events_append_only()")
        op.execute("CREATE TRIGGER admin_events_no_truncate BEFORE TRUNCATE ON admin_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION admin_events_append_only()")
    else:
        for change in ("update", "delete"):
            op.execute(f"CREATE TRIGGER admin_events_no_{change} BEFORE {change.upper()} ON admin_events "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER admin_events_no_truncate ON admin_events")
        op.execute("DROP TRIGGER admin_events_append_only ON admin_events")
        op.execute("DROP FUNCTION admin_events_append_only()")
    else:
        for change in ("update", "delete"):
            op.execute(f"DROP TRIGGER admin_events_no_{change}")
