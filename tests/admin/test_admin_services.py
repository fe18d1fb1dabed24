"""The admin console's services (app/admin/services.py) on the database: each write checks its input (nothing
written when refused), leaves one admin audit record with who and why, and the audit chain stays intact."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.admin import services as admin
from app.admin_audit import AdminEvent, verify
from app.auth.models import User
from app.auth.services import authenticate, issue_token, user_for_token
from app.cases.services import file_complaint, perform_action
from app.db_tx import transaction
from app.errors import ActionNotAvailable, Invalid, NotAuthenticated
from app.extensions import db
from app.payments.services import balance, seller_code
from app.rules import RuleSetting, get_rules
from app.timeutil import utcnow

from ..factories import PASSWORD, make_order, make_shop, make_user
from ..readers import case_of


def H(n):
    return timedelta(hours=n)


@pytest.fixture
def t0():
    return utcnow().replace(microsecond=0)


@pytest.fixture
def boss(ctx):
    return make_user("admin")


def audit():
    db.session.expire_all()
    return [(e.actor_id, e.action, e.target_type, e.target_id, e.reason)
            for e in db.session.execute(select(AdminEvent).order_by(AdminEvent.id)).scalars()]


@pytest.fixture(autouse=True)
def _audit_chain_intact(ctx):
    yield
    assert verify() == []


def queued_complaint(t0, category="home"):
    """A complaint the seller answered: queued for mediation, no mediator yet."""
    order, buyer, seller = make_order(state="delivered", now=t0 - H(48))
    case = file_complaint(actor=buyer, order_id=order.id, type="quality", description="质量问题", now=t0)
    perform_action(case.id, "respond", actor=seller, data={"statement": "没有问题"}, now=t0)
    if category != "home":
        with transaction():
            case_of(case.id).category = category
    return case_of(case.id).id


# ---------------------------------------------------------------- users

def test_create_mediator_with_a_generated_password_that_logs_in(boss, t0):
    user, password = admin.create_user(actor=boss, username="med_li", display_name="李调解", role="mediator",
                                       reason="新调解员入职", now=t0)
    assert (user.role, user.display_name, len(password)) == ("mediator", "李调解", 12)
    assert authenticate("med_li", password, remote_addr="1.2.3.4").id == user.id
    assert audit() == [(boss.id, "user.create", "user", str(user.id), "新调解员入职")]


@pytest.mark.parametrize("fields, problem", [
    ({"username": ""}, "username"), ({"username": "a b"}, "username"), ({"display_name": ""}, "display_name"),
    ({"role": "boss"}, "role"), ({"password": "short"}, "password"), ({"reason": "  "}, "reason"),
    ({"role": "seller"}, "shop_id"), ({"username": "taken"}, "username"),
])
def test_create_user_refuses_bad_input_and_writes_nothing(boss, fields, problem):
    make_user("buyer", username="taken")
    before = db.session.execute(select(User.id)).all()
    args = {"username": "new_one", "display_name": "新人", "role": "mediator", "password": None, "reason": "入职"}
    with pytest.raises(Invalid) as err:
        admin.create_user(actor=boss, **{**args, **fields})
    assert problem in err.value.details
    assert db.session.execute(select(User.id)).all() == before
    assert audit() == []


def test_create_seller_needs_and_gets_a_shop(boss):
    shop = make_shop()
    user, _ = admin.create_user(actor=boss, username="s1", display_name="店员", role="seller", shop_id=shop.id,
                                password="long-enough-1", reason="店铺新员工")
    assert user.shop_id == shop.id


def test_deactivated_user_cannot_log_in_and_loses_sessions_and_tokens(boss, t0):
    user = make_user("mediator")
    token = issue_token(user)
    version = user.session_version
    admin.set_user_active(user.id, False, actor=boss, reason="离职", now=t0)
    db.session.expire_all()
    assert user_for_token(token) is None
    assert db.session.get(User, user.id).session_version == version + 1
    with pytest.raises(NotAuthenticated):
        authenticate(user.username, PASSWORD, remote_addr="1.2.3.4")
    admin.set_user_active(user.id, True, actor=boss, reason="返岗", now=t0)
    assert authenticate(user.username, PASSWORD, remote_addr="1.2.3.5").id == user.id
    assert user_for_token(token) is None  # revoked tokens stay revoked
    assert [a[1] for a in audit()] == ["user.deactivate", "user.activate"]


def test_an_admin_cannot_deactivate_themselves(boss):
    with pytest.raises(Invalid) as err:
        admin.set_user_active(boss.id, False, actor=boss, reason="试试")
    assert "user" in err.value.details
    assert db.session.get(User, boss.id).is_active and audit() == []


def test_reset_password_ends_sessions_and_tokens(boss, t0):
    user = make_user("buyer")
    token = issue_token(user)
    password = admin.reset_password(user.id, actor=boss, reason="用户忘记密码", now=t0)
    db.session.expire_all()
    assert user_for_token(token) is None
    with pytest.raises(NotAuthenticated):
        authenticate(user.username, PASSWORD, remote_addr="1.2.3.4")
    assert authenticate(user.username, password, remote_addr="1.2.3.5").id == user.id
    assert admin.reset_password(user.id, actor=boss, password="chosen-pass-9", reason="再次重置") == "chosen-pass-9"
    with pytest.raises(Invalid):
        admin.reset_password(user.id, actor=boss, password="short", reason="太短")
    assert [a[1] for a in audit()] == ["user.reset_password", "user.reset_password"]


# ---------------------------------------------------------------- rules

def test_rule_change_applies_to_deadlines_set_after_it_only(boss, t0):
    assert get_rules()["mediation_queue_hours"] == 24
    before = case_of(queued_complaint(t0))
    assert before.due_at == t0 + H(24)
    admin.update_rule("mediation_queue_hours", "48", actor=boss, reason="队列积压", now=t0)
    assert get_rules()["mediation_queue_hours"] == 48
    after = case_of(queued_complaint(t0 + H(1)))
    assert after.due_at == t0 + H(1) + H(48)      # set after the change: the new value
    assert case_of(before.id).due_at == t0 + H(24)  # set before: stays
    setting = db.session.get(RuleSetting, "mediation_queue_hours")
    assert (setting.value, setting.updated_by) == (48, boss.id)
    (event,) = db.session.execute(select(AdminEvent)).scalars()
    assert (event.action, event.target_id, event.reason, event.detail) == (
        "rules.update", "mediation_queue_hours", "队列积压", {"before": 24, "after": 48})


def test_reset_rule_goes_back_to_the_default(boss):
    admin.update_rule("max_modifications", 5, actor=boss, reason="放宽")
    assert get_rules()["max_modifications"] == 5
    admin.reset_rule("max_modifications", actor=boss, reason="恢复默认")
    assert get_rules()["max_modifications"] == 3
    assert [a[1] for a in audit()] == ["rules.update", "rules.reset"]


@pytest.mark.parametrize("key, value, code", [
    ("mediation_queue_hours", "-1", "rule_range"), ("mediation_queue_hours", str(365 * 24 + 1), "rule_range"),
    ("mediation_queue_hours", "1.5", "rule_int"), ("mediation_queue_hours", "abc", "rule_int"),
    ("mediation_queue_hours", "", "rule_int"), ("late_shipment_percent", "101", "rule_range"),
    ("late_shipment_min_fen", "3001", "rule_above_max"), ("late_shipment_max_fen", "499", "rule_below_min"),
    ("reasons", "{}", "rule_read_only"), ("no_such_rule", "1", "rule_unknown"),
    # a restriction comes before the blacklist; windows and thresholds of 0 mean nothing
    ("penalty_restrict_points", "48", "rule_not_below"), ("penalty_blacklist_points", "12", "rule_not_above"),
    ("penalty_restrict_points", "0", "rule_range"), ("metrics_window_days", "0", "rule_range"),
    ("max_task_attempts", "0", "rule_range"),
])
def test_rule_values_are_checked(boss, key, value, code):
    with pytest.raises(Invalid) as err:
        admin.update_rule(key, value, actor=boss, reason="调整")
    assert err.value.details["value"].code == code
    assert db.session.execute(select(RuleSetting)).all() == [] and audit() == []


def test_rule_change_needs_a_reason(boss):
    with pytest.raises(Invalid) as err:
        admin.update_rule("mediation_queue_hours", "30", actor=boss, reason="")
    assert list(err.value.details) == ["reason"]


def test_database_settings_win_over_configured_overrides(app, boss):
    app.extensions.pop("tiaojie_rules", None)
    app.config["RULES"] = {"mediation_queue_hours": 12, "max_modifications": 4}
    try:
        assert get_rules()["mediation_queue_hours"] == 12
        admin.update_rule("mediation_queue_hours", "36", actor=boss, reason="调整")
        rules = get_rules()
        assert (rules["mediation_queue_hours"], rules["max_modifications"]) == (36, 4)
    finally:
        app.config["RULES"] = {}
        app.extensions.pop("tiaojie_rules", None)


# ---------------------------------------------------------------- teams

def test_team_sees_and_gets_its_categories_queue_others_do_not(boss, t0):
    from app.auth.policy import can_view_case, visible_cases_clause
    from app.cases.models import Case
    digital, other, free = make_user("mediator"), make_user("mediator"), make_user("mediator")
    team = admin.save_team(actor=boss, name="数码组", categories=["electronics"], member_ids=[digital.id],
                           reason="数码纠纷专人处理", now=t0)
    admin.save_team(actor=boss, name="服装组", categories=["apparel"], member_ids=[other.id], reason="服装", now=t0)
    phone, sofa = queued_complaint(t0, "electronics"), queued_complaint(t0, "home")
    phone_case, sofa_case = case_of(phone), case_of(sofa)

    def visible(user):
        return set(db.session.execute(select(Case.id).where(visible_cases_clause(user, Case))).scalars())
    assert visible(digital) == {phone, sofa}   # its team's category + the category no team covers
    assert visible(other) == visible(free) == {sofa}
    assert (can_view_case(digital, phone_case), can_view_case(other, phone_case), can_view_case(free, sofa_case)) == (
        True, False, True)
    with pytest.raises(Exception):  # a mediator outside the team cannot take the case
        perform_action(phone, "assign", actor=other, now=t0)
    # the sweeper's auto-assignment picks the team's mediator even when busier than the others
    perform_action(queued_complaint(t0, "electronics"), "assign", actor=digital, now=t0)
    from app.deadlines.services import sweep
    ids = {"digital": digital.id, "other": other.id, "free": free.id}
    assert team.name == "数码组"
    sweep(now=t0 + H(25))
    assert case_of(phone).mediator_id == ids["digital"]
    assert case_of(sofa).mediator_id in (ids["other"], ids["free"])
    assert [a[1] for a in audit()] == ["team.create", "team.create"]


def test_a_team_with_no_active_member_falls_back_to_all_mediators(boss, t0):
    gone, anyone = make_user("mediator"), make_user("mediator")
    admin.save_team(actor=boss, name="数码组", categories=["electronics"], member_ids=[gone.id], reason="组建")
    admin.set_user_active(gone.id, False, actor=boss, reason="离职")
    phone, anyone_id = queued_complaint(t0, "electronics"), anyone.id
    from app.deadlines.services import sweep
    sweep(now=t0 + H(25))
    assert case_of(phone).mediator_id == anyone_id


@pytest.mark.parametrize("fields, problem", [
    ({"name": ""}, "name"), ({"categories": []}, "categories"), ({"categories": ["cars"]}, "categories"),
    ({"member_ids": ["buyer"]}, "member_ids"), ({"name": "taken"}, "name"), ({"reason": ""}, "reason"),
])
def test_team_input_is_checked(boss, fields, problem):
    buyer = make_user("buyer")
    admin.save_team(actor=boss, name="taken", categories=["home"], member_ids=[], reason="先建一个")
    args = {"name": "新组", "categories": ["home"], "member_ids": [], "reason": "组建"}
    if fields.get("member_ids") == ["buyer"]:
        fields = {"member_ids": [buyer.id]}
    with pytest.raises(Invalid) as err:
        admin.save_team(actor=boss, **{**args, **fields})
    assert problem in err.value.details
    assert len(audit()) == 1


def test_team_edit_and_delete_are_recorded(boss):
    m = make_user("mediator")
    team = admin.save_team(actor=boss, name="家居组", categories=["home"], member_ids=[], reason="组建")
    admin.save_team(team.id, actor=boss, name="家居组", categories=["home", "books"], member_ids=[m.id],
                    reason="扩大范围")
    admin.delete_team(team.id, actor=boss, reason="合并")
    events = db.session.execute(select(AdminEvent).order_by(AdminEvent.id)).scalars().all()
    assert [e.action for e in events] == ["team.create", "team.update", "team.delete"]
    assert events[1].detail["after"] == {"name": "家居组", "categories": ["books", "home"], "members": [m.id]}


# ---------------------------------------------------------------- deposits

def test_required_deposit_and_top_up(boss, t0):
    shop = make_shop()
    admin.set_required_deposit(shop.id, 500_000, actor=boss, reason="类目保证金上调", now=t0)
    assert db.session.get(type(shop), shop.id).required_deposit_fen == 500_000
    admin.top_up_deposit(shop.id, 200_000, actor=boss, key="form0001", reason="商家线下缴纳", now=t0)
    admin.top_up_deposit(shop.id, 200_000, actor=boss, key="form0001", reason="商家线下缴纳", now=t0)  # sent twice
    assert balance(seller_code(shop.id, "deposit")) == 200_000
    assert [a[1] for a in audit()] == ["shop.required_deposit", "shop.deposit_top_up"]
    from app.payments.verify import verify_money
    assert verify_money() == []  # `flask payments verify` stays clean
    with pytest.raises(Invalid) as err:
        admin.set_required_deposit(shop.id, -1, actor=boss, reason="x")
    assert "amount_fen" in err.value.details
    with pytest.raises(Invalid):
        admin.top_up_deposit(shop.id, 0, actor=boss, key="form0002", reason="x")


# ---------------------------------------------------------------- failed tasks

def failed_compensation(t0):
    """A late-shipment compensation the shop cannot pay (its balance and deposit are empty): failed."""
    from app.cases.services import open_case
    from app.orders.services import perform_order_action
    order, buyer, seller = make_order(state="paid", price_fen=16_000, now=t0 - H(60))
    perform_order_action(order.id, "ship", actor=seller, data={"carrier": "sf", "tracking_no": "SF1"},
                         now=t0 - H(10))
    cid = open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=800, now=t0).id
    perform_action(cid, "agree", actor=seller, now=t0)
    from app.execution.services import tasks_of
    (task,) = tasks_of(cid)
    assert task.state == "failed"
    return cid, task.id, seller.shop_id


def test_retry_of_a_failed_task_fails_again_then_pays_once_funded(boss, t0):
    from app.execution.models import ExecutionTask
    cid, tid, shop_id = failed_compensation(t0)
    task = admin.retry_task(tid, actor=boss, reason="商家说已充值", now=t0 + H(2))
    assert (task.state, task.attempts, task.last_error) == ("failed", 2, "The shop cannot pay the compensation yet")
    admin.top_up_deposit(shop_id, 1_000, actor=boss, key="topup0001", reason="商家缴纳保证金", now=t0 + H(3))
    task = admin.retry_task(tid, actor=boss, reason="已充值，重试", now=t0 + H(3))
    db.session.expire_all()
    assert (db.session.get(ExecutionTask, tid).state, case_of(cid).phase, case_of(cid).state) == (
        "done", "closed", "resolved")
    assert balance(seller_code(shop_id, "deposit")) == 200
    from app.payments.verify import verify_money
    assert verify_money() == []
    with pytest.raises(ActionNotAvailable):
        admin.retry_task(tid, actor=boss, reason="再来")
    events = db.session.execute(select(AdminEvent).where(AdminEvent.action == "task.retry")
                                .order_by(AdminEvent.id)).scalars().all()
    assert [(e.detail["state"], e.detail["error"]) for e in events] == [
        ("failed", "The shop cannot pay the compensation yet"), ("done", None)]


# ---------------------------------------------------------------- keys other areas add to the rules table

def test_rule_kinds_follow_the_default_so_new_keys_are_editable(monkeypatch):
    """A float, a boolean and a days key, as other areas may add them: checked by their default's type."""
    from types import MappingProxyType

    from workflows import rule_limits
    extra = {"malicious_refund_rate": 0.5, "metrics_enabled": True, "metrics_window_days": 30}
    monkeypatch.setattr(rule_limits, "DEFAULTS", MappingProxyType({**rule_limits.DEFAULTS, **extra}))
    assert rule_limits.parse_rule("malicious_refund_rate", "12.5") == 12.5
    assert rule_limits.parse_rule("metrics_enabled", "false") is False
    assert rule_limits.parse_rule("metrics_window_days", "90") == 90
    for key, text, code in (("malicious_refund_rate", "101", "rule_range"), ("metrics_enabled", "maybe", "rule_bool"),
                            ("metrics_window_days", "3651", "rule_range"), ("malicious_refund_rate", "nan", "rule_number")):
        with pytest.raises(ValueError) as err:
            rule_limits.parse_rule(key, text)
        assert err.value.args[0].code == code, (key, text)


def test_a_change_reaches_another_process_at_its_next_call(app, boss):
    """Another app object on the same database (as the sweeper's or a Celery worker's process) reads the new
    value at its next get_rules() — nothing to restart, no cache to flush."""
    from app import create_app
    other = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    with other.app_context():
        assert get_rules()["confirmation_hours"] == 72
        db.session.remove()
    admin.update_rule("confirmation_hours", "96", actor=boss, reason="节假日")
    with other.app_context():
        assert get_rules()["confirmation_hours"] == 96
        db.session.remove()
    admin.reset_rule("confirmation_hours", actor=boss, reason="节后恢复")
    with other.app_context():
        assert get_rules()["confirmation_hours"] == 72
        db.session.remove()
