"""The console reads like a product (issue 13, new-user review): rules by human name with an explanation, a
truthful message after saving a rule, a readable audit log, the one-time password on a GET page."""
import pytest

from app.labels import LABELS
from workflows.rules import DEFAULTS

from ..factories import make_user
from .test_admin_pages import csrf


@pytest.fixture
def admin_client(ctx, client, login_as):
    login_as(make_user("admin"))
    return client


def test_every_rule_has_a_name_and_an_explanation():
    """A new rule without its label fails here."""
    assert set(DEFAULTS) - set(LABELS["rule"]) == set()
    assert set(DEFAULTS) - set(LABELS["rule_help"]) == set()


def test_rules_pages_show_the_human_name_with_the_key(admin_client):
    html = admin_client.get("/admin/rules").get_data(as_text=True)
    assert "卖家已发货时的处理时限" in html and "requested_shipped_hours" in html
    assert "退款原因（只读）" in html
    page = admin_client.get("/admin/rules/requested_shipped_hours").get_data(as_text=True)
    assert "卖家已发货时的处理时限" in page and "卖家在此期间不处理，系统自动同意退款" in page
    book = admin_client.get("/workflows").get_data(as_text=True)
    assert "卖家已发货时的处理时限" in book


def _save(client, key, value):
    token = csrf(client, f"/admin/rules/{key}")
    response = client.post(f"/admin/rules/{key}", data={"rule-csrf_token": token, "rule-value": value,
                                                        "rule-reason": "调整"}, follow_redirects=True)
    return response.get_data(as_text=True)


def test_saving_a_deadline_rule_says_running_deadlines_stay(admin_client):
    assert "已设定的时限保持不变" in _save(admin_client, "mediation_queue_hours", "36")


def test_saving_another_rule_says_the_value_applies(admin_client):
    html = _save(admin_client, "max_modifications", "4")
    assert "新取值已生效" in html and "已设定的时限保持不变" not in html


def test_overview_names_its_window_rule(ctx, client, login_as):
    login_as(make_user("mediator"))
    html = client.get("/overview").get_data(as_text=True)
    assert "规则表：概览统计窗口" in html and "overview_window_days" not in html


def _actions_recorded_in_code():
    """Every action any `record(...)` call in app/ writes (literal strings, both arms of a conditional, and
    the penalty thresholds' f"shop.{kind}")."""
    import pathlib
    import re
    found = set()
    for path in pathlib.Path("app").rglob("*.py"):
        text = path.read_text()
        for call in re.finditer(r"\brecord\(\s*(\w+),\s*(.+?),\s*\"(\w+)\",", text):
            arg = call.group(2)
            found |= set(re.findall(r'"(\w+\.\w+)"', arg))
            if 'f"shop.{kind}"' in arg:
                found |= {"shop.restrict", "shop.blacklist"}  # app/execution/services.py _threshold
    return found


def test_every_recorded_action_has_words():
    from app.admin.routes import ACTIONS
    actions = _actions_recorded_in_code()
    assert {"user.create", "buyer.flag", "buyer.unflag", "shop.restrict", "task.retry"} <= actions
    assert actions - set(ACTIONS) == set()


def test_audit_log_reads_as_names_links_and_values(admin_client):
    from app import admin_audit
    from app.admin import services
    from app.credit.services import set_flag
    from app.extensions import db
    from ..factories import make_shop
    admin = make_user("admin", username="boss")
    shop = make_shop("小李的店")
    buyer = make_user("buyer", username="wang")
    services.set_required_deposit(shop.id, 150_000, actor=admin, reason="提高保证金")
    set_flag(buyer.id, actor=admin, flagged=True, reason="多次恶意退款")
    with db.session.begin_nested():
        admin_audit.record(None, "buyer.flag", "user", buyer.id, reason="C42: the mediator found the buyer at fault / malicious",
                           detail={"source": "ruling", "case_number": "C42", "before": False, "after": True})
    db.session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert f'href="/admin/shops/{shop.id}">小李的店</a>' in html
    assert f'href="/admin/users/{buyer.id}">{buyer.display_name}</a>' in html
    assert "¥1,500.00" in html and "before" not in html and "False" not in html
    assert "否 → 是" in html
    assert "案件 C42：调解员认定买家过错/恶意" in html and "the mediator found" not in html
    user_page = admin_client.get(f"/admin/users/{buyer.id}").get_data(as_text=True)
    assert "否 → 是" in user_page and "{'" not in user_page


def _failed_advance(t0):
    """A refund task failed because its flagged buyer gets no platform advance."""
    from app.deadlines.services import sweep
    from app.execution.services import tasks_of
    from app.extensions import db
    from ..credit.test_advance_gate import _owed_refund
    cid, buyer_id, task = _owed_refund(t0, flagged=True)
    sweep(now=task.due_at)
    db.session.expire_all()
    (task,) = tasks_of(cid)
    assert task.state == "failed"
    return cid, buyer_id, task


def test_case_page_translates_the_task_error(ctx, client, login_as):
    from app.timeutil import utcnow
    cid, _buyer, _task = _failed_advance(utcnow().replace(microsecond=0))
    admin_client = client
    login_as(make_user("admin"))
    html = admin_client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "买家不符合平台先行垫付的条件" in html and "not eligible" not in html


def test_users_link_buyers_to_their_credit_page(admin_client):
    buyer = make_user("buyer", username="lin")
    assert f'href="/buyers/{buyer.id}/credit"' in admin_client.get("/admin/users").get_data(as_text=True)
    assert f'href="/buyers/{buyer.id}/credit"' in admin_client.get(f"/admin/users/{buyer.id}").get_data(as_text=True)


def test_failed_advance_links_the_credit_page_and_retry_warns_while_flagged(ctx, client, login_as):
    from app.timeutil import utcnow
    _cid, buyer_id, task = _failed_advance(utcnow().replace(microsecond=0))
    admin_client = client
    login_as(make_user("admin"))
    html = admin_client.get("/admin/tasks").get_data(as_text=True)
    assert f'href="/buyers/{buyer_id}/credit"' in html
    token = csrf(admin_client, "/admin/tasks")
    page = admin_client.post(f"/admin/tasks/{task.id}/retry", data={
        f"retry{task.id}-csrf_token": token, f"retry{task.id}-reason": "再试"}, follow_redirects=True)
    assert "买家仍被标记为恶意退款，重试仍会失败" in page.get_data(as_text=True)


def test_password_reset_answer_is_not_kept_and_reload_goes_to_the_user_page(admin_client):
    seller = make_user("buyer", username="zhao")
    token = csrf(admin_client, f"/admin/users/{seller.id}")
    response = admin_client.post(f"/admin/users/{seller.id}/password", data={
        "reset-csrf_token": token, "reset-password": "", "reset-reason": "忘记密码"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "private, no-store" in response.headers["Cache-Control"]
    assert f'data-replace-url="/admin/users/{seller.id}"' in html  # base.js: a reload is a GET of the user page
