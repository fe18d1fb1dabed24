"""The admin console in Chromium: the admin changes a deadline in the rules table (refused value first, shown
in place), retries a failed execution task (it fails again with the reason in words; the admin books the shop's
deposit payment; the retry pays), creates a mediator who logs in with the password shown once, and deactivates
them. Screenshots in tests/artifacts/ (test_admin_console-*)."""
import pytest

from app.timeutil import utcnow

from ..admin.test_admin_services import failed_compensation
from ..factories import make_shop, make_user
from .conftest import PHONE

PAGES = ("/admin/", "/admin/users", "/admin/teams", "/admin/rules", "/admin/rules/mediation_queue_hours",
         "/admin/deposits", "/admin/tasks", "/admin/audit")


def submit(visitor, form):
    with visitor.page.expect_navigation():
        form.locator("button[type=submit]").click()
    return visitor.assert_ok()


def test_admin_changes_a_deadline(open_as, ctx):
    admin = open_as(make_user("admin"))
    admin.go("/admin/rules")
    admin.page.locator("#rule-mediation_queue_hours a").last.click()
    admin.page.wait_for_url("**/admin/rules/mediation_queue_hours")
    form = admin.page.locator("form.address-form")
    form.locator("input[name=rule-value]").fill("9000")
    submit(admin, form)
    assert admin.sees("取值需在 1 至 8760 之间") and admin.sees("请填写")  # the value's range, the missing reason
    admin.shot("rule-refused")
    form = admin.page.locator("form.address-form")
    form.locator("input[name=rule-value]").fill("48")
    form.locator("textarea[name=rule-reason]").fill("春节期间调解员人手不足，延长排队时限")
    submit(admin, form)
    assert "/admin/rules" in admin.path and "已保存" in admin.flash_text()
    assert admin.page.locator("#rule-mediation_queue_hours td.num strong").inner_text() == "48"
    admin.shot("rules-after")
    admin.go("/workflows#rules")
    assert "mediation_queue_hours" in admin.text() and "48" in admin.page.locator("#rules").inner_text()
    admin.go("/admin/audit")
    assert admin.sees("日志校验通过") and admin.sees("春节期间调解员人手不足")
    admin.shot("audit")


def test_admin_retries_a_failed_task_after_booking_the_deposit(open_as, ctx):
    cid, tid, shop_id = failed_compensation(utcnow().replace(microsecond=0))
    admin = open_as(make_user("admin"))
    admin.go("/admin/tasks")
    task = admin.page.locator(f"#task-{tid}")
    assert "店铺余额和保证金暂不足以支付赔付" in task.inner_text()
    task.locator("textarea").fill("商家称已充值，先试一次")
    submit(admin, task.locator("form"))
    assert "任务再次失败：店铺余额和保证金暂不足以支付赔付" in admin.flash_text()
    admin.shot("tasks-failed-again")

    admin.page.locator(f"#task-{tid} a[href='/admin/shops/{shop_id}']").click()
    admin.page.wait_for_url(f"**/admin/shops/{shop_id}")
    form = admin.page.locator(f"form[action='/admin/shops/{shop_id}/top-up']")
    form.locator("input[name=topup-amount]").fill("10")
    form.locator("textarea[name=topup-reason]").fill("商家线下缴纳保证金 10 元，银行回单 2026-12-01")
    submit(admin, form)
    assert "保证金缴纳已登记" in admin.flash_text() and admin.sees("¥10.00")
    admin.shot("shop-topped-up")

    admin.go("/admin/tasks")
    task = admin.page.locator(f"#task-{tid}")
    task.locator("textarea").fill("保证金已到账，重试赔付")
    submit(admin, task.locator("form"))
    assert "任务已重新执行" in admin.flash_text()
    assert admin.page.locator(f"#task-{tid}").count() == 0 and admin.sees("没有失败的任务")
    admin.shot("tasks-done")
    admin.go(f"/cases/{cid}")
    assert admin.sees("已解决") or admin.sees("已关闭")
    admin.shot("case-resolved")


def test_admin_creates_a_mediator_who_logs_in_then_deactivates_them(open_as, ctx):
    make_shop()
    admin = open_as(make_user("admin"))
    admin.go("/admin/users")
    form = admin.page.locator("form.address-form")
    form.locator("input[name=user-username]").fill("med_zhao")
    form.locator("input[name=user-display_name]").fill("赵调解")
    form.locator("select[name=user-role]").select_option("mediator")
    form.locator("textarea[name=user-reason]").fill("新调解员入职，负责数码类目")
    submit(admin, form)
    password = admin.page.locator("code.secret").inner_text()
    assert admin.sees("账号 med_zhao 已创建") and len(password) == 12
    admin.shot("user-created")

    mediator = open_as(None)
    mediator.login("med_zhao", password)
    assert mediator.path == "/queue"

    admin.go("/admin/teams")  # the new mediator forms the electronics team
    form = admin.page.locator("form.address-form")
    form.locator("input[name=team-name]").fill("数码组")
    form.get_by_label("数码").check()
    form.get_by_label("赵调解 (med_zhao)").check()
    form.locator("textarea[name=team-reason]").fill("数码类纠纷由专人处理")
    submit(admin, form)
    assert "小组已保存" in admin.flash_text()
    assert "数码组" in admin.page.locator("table").inner_text() and "赵调解" in admin.page.locator("table").inner_text()
    admin.shot("team-saved")

    admin.go("/admin/users?q=zhao")

    admin.page.locator("a", has_text="med_zhao").first.click()
    admin.page.wait_for_url("**/admin/users/*")
    form = admin.page.locator("form[action$='/active']")
    form.locator("textarea").fill("试用期结束")
    submit(admin, form)
    assert "账号已停用" in admin.flash_text()
    admin.shot("user-deactivated")
    mediator.go("/queue")
    assert mediator.path.startswith("/login")


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_fit_a_phone(open_as, ctx, path):
    make_shop()
    admin = open_as(make_user("admin"), viewport=PHONE)
    admin.go(path)
    admin.assert_fits()
    admin.shot(path.strip("/").replace("/", "-") or "admin")


def test_deactivating_a_mediator_hands_their_case_over_and_another_admin_is_read_only(open_as, ctx):
    from datetime import timedelta

    from app.cases.services import perform_action

    from ..admin.test_review_fixes import answered
    leaving, peer = make_user("mediator"), make_user("admin")
    make_user("mediator")  # the one who takes the case
    perform_action(answered(utcnow() - timedelta(hours=2)), "assign", actor=leaving, now=utcnow() - timedelta(hours=2))
    admin = open_as(make_user("admin"), viewport=PHONE)
    admin.go(f"/admin/users/{leaving.id}")
    assert admin.sees("停用后，其 1 件调解或裁决中的案件将交给")
    admin.assert_fits()
    admin.shot("mediator-hand-over")
    form = admin.page.locator("form[action$='/active']")
    form.locator("textarea").fill("离职")
    submit(admin, form)
    assert "1 件未结案件已转交其他调解员" in admin.flash_text()
    admin.go(f"/admin/users/{peer.id}")
    assert admin.sees("管理员的账号不能在后台停用或重置密码")
    assert admin.page.locator("form[action$='/password']").count() == 0
    admin.assert_fits()
    admin.shot("another-admin")


def test_password_reset_reload_shows_the_user_page_and_resets_nothing(open_as, ctx):
    from sqlalchemy import func, select

    from app.admin_audit import AdminEvent
    from app.extensions import db
    buyer = make_user("buyer", username="buyer_sun")
    admin = open_as(make_user("admin"))
    admin.go(f"/admin/users/{buyer.id}")
    assert admin.page.locator(f"a[href='/buyers/{buyer.id}/credit']").count() == 1
    form = admin.page.locator(f"form[action='/admin/users/{buyer.id}/password']")
    form.locator("textarea").fill("买家忘记密码，电话核实身份")
    submit(admin, form)
    assert len(admin.page.locator("code.secret").inner_text()) == 12 and admin.sees("刷新后将显示用户页面")
    assert admin.path == f"/admin/users/{buyer.id}"  # the address is the user page's, not the POST's
    admin.shot("password-reset")
    with admin.page.expect_navigation():
        admin.page.reload()
    assert admin.page.locator("code.secret").count() == 0
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(AdminEvent).where(
        AdminEvent.action == "user.reset_password")).scalar_one() == 1
    admin.go("/admin/audit")
    assert admin.sees("密码已重置") or admin.sees("重置")
    assert admin.page.locator(f"a[href='/admin/users/{buyer.id}']").count() >= 1
    admin.shot("audit-readable")
