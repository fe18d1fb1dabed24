"""The admin audit log is append-only in the database (attack review: deleting the newest rows left the hash
chain intact and verify() clean), and its chain shows a row edited by someone who can set the triggers aside."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from app.admin import services as admin
from app.admin_audit import verify
from app.db_tx import transaction
from app.extensions import db

from ..factories import anchor_triggers_off, make_user


@pytest.fixture
def logged(ctx):
    boss = make_user("admin")
    for hours in (50, 51, 52):
        admin.update_rule("ruling_hours", str(hours), actor=boss, reason=f"调整 {hours}")
    return boss


@pytest.mark.parametrize("statement", [
    "DELETE FROM admin_events WHERE id = (SELECT max(id) FROM admin_events)",
    "DELETE FROM admin_events",
    "UPDATE admin_events SET reason = '改过' WHERE id = (SELECT max(id) FROM admin_events)",
])
def test_the_database_refuses_to_change_or_remove_admin_events(logged, statement):
    with pytest.raises(DatabaseError, match="admin_events is append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    assert db.session.execute(text("SELECT count(*) FROM admin_events")).scalar_one() == 3
    assert verify() == []


def test_a_row_edited_with_the_triggers_set_aside_shows_in_verify(logged):
    with transaction():
        conn = db.session.connection()
        with anchor_triggers_off(conn):
            first = conn.execute(text("SELECT min(id) FROM admin_events")).scalar_one()
            conn.execute(text("UPDATE admin_events SET reason = '改过' WHERE id = :id"), {"id": first})
    db.session.expire_all()
    assert verify() == [first]
