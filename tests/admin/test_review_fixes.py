"""What the attack review of the admin console found (issue 13): rules that made one sweep spin forever, min/max
pairs crossed by a reset or by two admins at once, a deactivated mediator's stranded cases, a team of deactivated
mediators hiding its queue, admin-on-admin writes, and a repeated top-up form landing on "/"."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.admin import services as admin
from app.admin_audit import verify
from app.auth.models import User
from app.cases.models import CaseMessage
from app.cases.services import file_complaint, perform_action
from app.deadlines.services import sweep
from app.errors import Forbidden, Invalid
from app.extensions import db
from app.rules import RuleSetting, get_rules
from app.timeutil import utcnow

from ..concurrency import race
from ..factories import make_order, make_shop, make_user
from ..readers import case_of


def H(n):
    return timedelta(hours=n)


@pytest.fixture
def boss(ctx):
    return make_user("admin")


@pytest.fixture(autouse=True)
def _audit_chain_intact(ctx):
    yield
    assert verify() == []


def answered(now, category=None):
    """A complaint the seller answered (queued for mediation); its goods' category `category` if given."""
    order, buyer, seller = make_order(state="paid", now=now)
    case = file_complaint(actor=buyer, order_id=order.id, type="quality", description="质量问题", now=now)
    perform_action(case.id, "respond", actor=seller, data={"statement": "没有问题"}, now=now)
    if category is not None:
        from app.db_tx import transaction
        with transaction():
            case_of(case.id).category = category
    return case.id


def finishes(app, work, seconds=20):
    """Whether `work` returns (in a thread, its own app context) — a sweep that spins never does."""
    done = []

    def run():
        with app.app_context():
            done.append(work())
            db.session.remove()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return bool(done)


# ---------------------------------------------------------------- 1. _hours rules at 0, and a sweep that re-arms

@pytest.mark.parametrize("key", ["mediation_action_hours", "mediation_review_hours", "ruling_hours",
                                 "execution_retry_hours", "mediation_queue_hours"])
@pytest.mark.parametrize("value", ["0", "-0", "-1"])
def test_an_hours_rule_is_at_least_one(boss, key, value):
    with pytest.raises(Invalid) as err:
        admin.update_rule(key, value, actor=boss, reason="更快")
    assert err.value.details["value"].code == "rule_range"
    assert err.value.details["value"].values["low"] == 1
    assert db.session.get(RuleSetting, key) is None


def test_an_hours_rule_whose_default_is_zero_may_be_zero_but_not_minus_zero(boss):
    assert get_rules()["task_start_hours"] == 0
    admin.update_rule("task_start_hours", "2", actor=boss, reason="缓冲")
    admin.update_rule("task_start_hours", "0", actor=boss, reason="立即")
    assert get_rules()["task_start_hours"] == 0
    with pytest.raises(Invalid):
        admin.update_rule("task_start_hours", "-0", actor=boss, reason="立即")


def _store(key, value):
    """A rule stored as it is (as an older version of the editor let it be), bypassing the editor's checks."""
    from app.db_tx import transaction
    with transaction():
        db.session.add(RuleSetting(key=key, value=value, updated_by=make_user("admin").id, updated_at=utcnow()))


def test_one_sweep_returns_with_a_case_that_re_arms_at_now(app, ctx):
    now = utcnow() - H(48)
    case_id = answered(now)
    mediator = make_user("mediator")
    perform_action(case_id, "assign", actor=mediator, now=now)
    _store("mediation_action_hours", 0)
    assert finishes(app, sweep)
    db.session.expire_all()
    assert case_of(case_id).overdue_count == 1  # flagged once in this sweep; the re-armed deadline waits


def test_one_sweep_returns_with_a_failing_timeout_retried_at_now(app, ctx):
    now = utcnow() - H(48)
    case_id = answered(now)  # queued, no active mediator: its auto-assignment fails
    _store("execution_retry_hours", 0)
    assert finishes(app, sweep)
    db.session.expire_all()
    assert case_of(case_id).sweep_attempts == 1


# ---------------------------------------------------------------- 2. min/max pairs, in the locked transaction

def test_reset_cannot_leave_a_min_above_its_max(boss):
    admin.update_rule("late_shipment_min_fen", "100", actor=boss, reason="r")
    admin.update_rule("late_shipment_max_fen", "200", actor=boss, reason="r")
    with pytest.raises(Invalid) as err:
        admin.reset_rule("late_shipment_min_fen", actor=boss, reason="恢复")  # the default 500 > 200
    assert err.value.details["value"].code == "rule_above_max"
    rules = get_rules()
    assert (rules["late_shipment_min_fen"], rules["late_shipment_max_fen"]) == (100, 200)


def test_reset_cannot_put_the_restriction_threshold_at_the_blacklist_one(boss):
    admin.update_rule("penalty_restrict_points", "3", actor=boss, reason="r")
    admin.update_rule("penalty_blacklist_points", "6", actor=boss, reason="r")
    with pytest.raises(Invalid) as err:
        admin.reset_rule("penalty_restrict_points", actor=boss, reason="恢复")  # the default 12 ≥ 6
    assert err.value.details["value"].code == "rule_not_below"
    assert get_rules()["penalty_restrict_points"] == 3


def test_min_and_max_set_at_once_never_cross(app, ctx):
    ids = [make_user("admin").id for _ in range(2)]
    for _ in range(6):
        from app.db_tx import transaction
        with transaction():
            db.session.query(RuleSetting).delete()
        results = race(app, [
            lambda: admin.update_rule("late_shipment_min_fen", "2900", actor=db.session.get(User, ids[0]), reason="r"),
            lambda: admin.update_rule("late_shipment_max_fen", "600", actor=db.session.get(User, ids[1]), reason="r")])
        db.session.rollback()
        assert sum(isinstance(r, Invalid) for r in results) == 1, results
        rules = get_rules()
        assert rules["late_shipment_min_fen"] <= rules["late_shipment_max_fen"]


# ---------------------------------------------------------------- 3. a deactivated mediator's open cases

def test_deactivating_a_mediator_hands_their_open_cases_to_the_least_busy_active_one(boss):
    now = utcnow() - H(2)
    gone, busy, free, outsider = (make_user("mediator") for _ in range(4))
    admin.save_team(actor=boss, name="家居组", categories=["home"], member_ids=[gone.id, busy.id, free.id], reason="组建")
    ids = {"gone": gone.id, "busy": busy.id, "free": free.id}
    perform_action(answered(now, "home"), "assign", actor=busy, now=now)
    first, second = answered(now, "home"), answered(now, "home")
    perform_action(first, "assign", actor=gone, now=now)
    perform_action(second, "assign", actor=gone, now=now)
    perform_action(second, "start_review", actor=gone, now=now)
    admin.set_user_active(gone.id, False, actor=boss, reason="离职", now=now + H(1))
    db.session.expire_all()
    # free had none, so the first goes to free; then busy and free have one each: the lower id (busy) takes the next
    assert (case_of(first).mediator_id, case_of(second).mediator_id) == (ids["free"], ids["busy"])
    assert (case_of(second).phase, case_of(second).state) == ("mediation", "under_review")
    bodies = [m.body for m in db.session.execute(select(CaseMessage).where(CaseMessage.case_id == first)).scalars()]
    assert "[reassign] mediation/assigned → mediation/assigned" in bodies
    from app.cases.models import CaseEvent
    event = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == first)
                               .order_by(CaseEvent.seq.desc())).scalars().first()
    assert (event.trigger, event.actor_role, event.actor_id, event.payload) == (
        "reassign", "system", boss.id, {"from_mediator_id": ids["gone"], "mediator_id": ids["free"]})


def test_a_mediator_outside_every_team_covering_it_takes_the_case_when_the_team_has_no_one_left(boss):
    now = utcnow() - H(2)
    gone, anyone = make_user("mediator"), make_user("mediator")
    admin.save_team(actor=boss, name="家居组", categories=["home"], member_ids=[gone.id], reason="组建")
    case_id = answered(now, "home")
    perform_action(case_id, "assign", actor=gone, now=now)
    anyone_id = anyone.id
    admin.set_user_active(gone.id, False, actor=boss, reason="离职")
    db.session.expire_all()
    assert case_of(case_id).mediator_id == anyone_id


def test_deactivating_the_last_active_mediator_with_open_cases_is_refused(boss):
    now = utcnow() - H(2)
    only = make_user("mediator")
    case_id = answered(now)
    perform_action(case_id, "assign", actor=only, now=now)
    with pytest.raises(Invalid) as err:
        admin.set_user_active(only.id, False, actor=boss, reason="离职")
    assert err.value.details["user"].code == "no_mediator_left"
    db.session.expire_all()
    assert db.session.get(User, only.id).is_active_flag is True
    assert case_of(case_id).mediator_id == only.id


# ---------------------------------------------------------------- 4. a team of only deactivated mediators

def test_a_team_of_deactivated_mediators_does_not_hide_its_queue(boss):
    now = utcnow() - H(1)
    gone, other = make_user("mediator"), make_user("mediator")
    admin.save_team(actor=boss, name="家居组", categories=["home"], member_ids=[gone.id], reason="组建")
    admin.set_user_active(gone.id, False, actor=boss, reason="离职")
    case_id = answered(now, "home")
    from app.auth.policy import visible_cases_clause
    from app.cases.models import Case
    assert case_id in set(db.session.execute(select(Case.id).where(visible_cases_clause(other, Case))).scalars())
    perform_action(case_id, "assign", actor=other, now=now)
    assert case_of(case_id).mediator_id == other.id


# ---------------------------------------------------------------- 5. admin-on-admin writes

def test_an_admin_cannot_reset_another_admins_password_nor_deactivate_them(boss):
    other = make_user("admin")
    with pytest.raises(Forbidden):
        admin.reset_password(other.id, actor=boss, reason="r")
    with pytest.raises(Forbidden):
        admin.set_user_active(other.id, False, actor=boss, reason="r")
    assert admin.set_user_active(make_user("mediator").id, False, actor=boss, reason="离职").is_active_flag is False


def test_admin_page_says_admins_are_not_changed_here(app, client, login_as, boss):
    other = make_user("admin")
    login_as(boss)
    html = client.get(f"/admin/users/{other.id}").get_data(as_text=True)
    assert "管理员的账号不能在后台停用或重置密码" in html
    response = client.post(f"/admin/users/{other.id}/password", data={"reset-reason": "r"})
    assert response.status_code == 403


# ---------------------------------------------------------------- 6. the same top-up form with another amount

def test_a_top_up_form_sent_again_with_another_amount_shows_the_message_on_the_shop_page(client, login_as, boss):
    shop = make_shop()
    login_as(boss)
    form = {"topup-key": "abcdefgh1234", "topup-amount": "100", "topup-reason": "保证金"}
    assert client.post(f"/admin/shops/{shop.id}/top-up", data=form).status_code == 302
    response = client.post(f"/admin/shops/{shop.id}/top-up", data={**form, "topup-amount": "200"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "这张充值单已经提交过" in html and f"/admin/shops/{shop.id}/top-up" in html


def test_the_mediator_page_says_how_many_cases_go_to_others_and_the_flash_confirms(client, login_as, boss):
    now = utcnow() - H(2)
    leaving, other = make_user("mediator"), make_user("mediator")
    case_id = answered(now)
    perform_action(case_id, "assign", actor=leaving, now=now)
    login_as(boss)
    html = client.get(f"/admin/users/{leaving.id}").get_data(as_text=True)
    assert "停用后，其 1 件调解或裁决中的案件将交给" in html
    response = client.post(f"/admin/users/{leaving.id}/active", data={"active": "0", "active-reason": "离职"},
                           follow_redirects=True)
    assert "1 件未结案件已转交其他调解员" in response.get_data(as_text=True)
    db.session.expire_all()
    assert case_of(case_id).mediator_id == other.id


def test_deactivating_the_last_mediator_shows_why_on_the_page(client, login_as, boss):
    now = utcnow() - H(2)
    only = make_user("mediator")
    perform_action(answered(now), "assign", actor=only, now=now)
    login_as(boss)
    response = client.post(f"/admin/users/{only.id}/active", data={"active": "0", "active-reason": "离职"})
    assert response.status_code == 422
    assert "没有其他在岗调解员可以接手该调解员的未结案件" in response.get_data(as_text=True)


def test_a_refused_reset_says_why_on_the_rule_page(client, login_as, boss):
    admin.update_rule("late_shipment_min_fen", "100", actor=boss, reason="r")
    admin.update_rule("late_shipment_max_fen", "200", actor=boss, reason="r")
    login_as(boss)
    response = client.post("/admin/rules/late_shipment_min_fen/reset", data={"reset-reason": "恢复默认"})
    assert response.status_code == 422
    assert "不能高于对应的上限（200）" in response.get_data(as_text=True)
    assert get_rules()["late_shipment_min_fen"] == 100
