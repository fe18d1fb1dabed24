"""Admins acting at the same moment (real threads, each its own connection; on PostgreSQL the point): the same
rule set by several at once, the same username created twice — every request gets an answer (no 500 from a
unique key), one account exists, and the audit chain stays whole."""
from sqlalchemy import func, select

from app.admin import services as admin
from app.admin_audit import AdminEvent, verify
from app.auth.models import User
from app.errors import Invalid
from app.extensions import db
from app.rules import get_rules

from ..concurrency import race
from ..factories import make_user


def test_the_same_rule_set_at_once_by_several_admins(app, ctx):
    ids = [make_user("admin").id for _ in range(6)]

    def setting(i, admin_id):
        return lambda: admin.update_rule("ruling_hours", str(48 + i), actor=db.session.get(User, admin_id),
                                         reason=f"调整 {i}")
    results = race(app, [setting(i, a) for i, a in enumerate(ids)])
    assert [r for r in results if isinstance(r, Exception)] == []
    db.session.rollback()  # (SQLite: end the snapshot this test read before the race)
    assert get_rules()["ruling_hours"] in range(48, 54)
    assert db.session.execute(select(func.count()).select_from(AdminEvent)).scalar_one() == 6
    assert verify() == []


def test_the_same_username_created_twice_at_once(app, ctx):
    ids = [make_user("admin").id for _ in range(4)]

    def create(admin_id):
        return lambda: admin.create_user(actor=db.session.get(User, admin_id), username="med_same",
                                         display_name="同名", role="mediator", reason="入职")
    results = race(app, [create(a) for a in ids])
    assert sum(isinstance(r, tuple) for r in results) == 1
    assert all(isinstance(r, tuple) or (isinstance(r, Invalid) and "username" in r.details) for r in results), results
    db.session.rollback()  # (SQLite: end the snapshot this test read before the race)
    assert db.session.execute(select(func.count()).select_from(User).where(User.username == "med_same")).scalar_one() == 1
    assert verify() == []
