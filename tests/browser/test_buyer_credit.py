"""Buyer credit in the browser (issue 13): the admin flags a buyer on the credit page (a reason is required),
clears the flag and sets it again; the mediator sees the flag and the figures beside the case, and follows the
panel's link to the credit page. At 1280 px and at 390 px nothing scrolls sideways."""
from datetime import timedelta

from app.auth.models import User
from app.extensions import db
from app.timeutil import utcnow

from ..credit.history import complaint, dismissed_complaint, to_review
from ..factories import make_user
from .conftest import PHONE


def _submit(visitor, reason):
    form = visitor.page.locator('form[action$="/credit/flag"]')
    form.locator('textarea[name="flag-reason"]').fill(reason)
    with visitor.page.expect_navigation():
        form.locator("button[type=submit]").click()
    visitor.assert_ok()


def test_admin_flags_and_clears_a_buyer_and_the_mediator_sees_it_beside_the_case(live_server, open_as, ctx):
    now = utcnow().replace(microsecond=0)
    buyer, mediator, admin = make_user("buyer"), make_user("mediator"), make_user("admin")
    dismissed_complaint(buyer, mediator, now - timedelta(days=120))
    cid, seller = complaint(buyer, now)
    to_review(cid, seller, mediator, now)
    buyer_id = buyer.id
    db.session.commit()

    boss = open_as(admin).go(f"/buyers/{buyer_id}/credit")
    assert boss.sees("无恶意退款标记") and boss.sees("从未被标记。")
    boss.shot("1-admin-credit-page")
    _submit(boss, "")  # no reason: refused beside the field
    assert boss.page.locator(".field.has-error .field-error").inner_text() == "请填写此项。"
    db.session.rollback()
    assert db.session.get(User, buyer_id).is_malicious_refund is False
    boss.shot("2-admin-reason-required")
    _submit(boss, "同一收货地址多个账号反复仅退款")
    assert boss.sees("已标记该买家：不再享受平台垫付。") and boss.sees("恶意退款标记：不享受平台垫付")
    boss.shot("3-admin-flagged")
    _submit(boss, "买家提供了物流签收异常证明，解除")
    assert boss.sees("标记已解除。") and boss.sees("无恶意退款标记")
    _submit(boss, "复核后重新标记")
    history = boss.page.locator("#flag-history tbody tr")
    assert history.count() == 3
    assert "复核后重新标记" in history.nth(0).inner_text() and "同一收货地址" in history.nth(2).inner_text()
    boss.shot("4-admin-history")
    db.session.rollback()
    assert db.session.get(User, buyer_id).is_malicious_refund is True

    med = open_as(mediator).go(f"/cases/{cid}")
    panel = med.page.locator("#buyer-credit")
    assert "恶意退款标记：不享受平台垫付" in panel.inner_text()
    assert "提交的投诉" in panel.inner_text()
    panel.scroll_into_view_if_needed()
    med.shot("5-mediator-case-panel")
    with med.page.expect_navigation():
        panel.locator("a").click()
    assert med.path == f"/buyers/{buyer_id}/credit"
    assert med.page.locator('form[action$="/credit/flag"]').count() == 0  # the flag is the admin's
    assert med.sees("复核后重新标记")
    med.shot("6-mediator-credit-page")

    phone = open_as(admin, viewport=PHONE).go(f"/buyers/{buyer_id}/credit")
    phone.assert_fits()
    phone.shot("7-phone-credit-page")
    phone_med = open_as(mediator, viewport=PHONE).go(f"/cases/{cid}")
    phone_med.assert_fits()
    phone_med.page.locator("#buyer-credit").scroll_into_view_if_needed()
    phone_med.shot("8-phone-case-panel", full_page=False)
