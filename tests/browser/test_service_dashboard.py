"""The seller's service dashboard and the buyer's after-sales rating in the browser (screenshots in
tests/artifacts/): the figures beside the category's, both trend charts, the penalties, on a desktop and a
phone; a buyer rates a closed case and then sees the rating instead of the form."""
from datetime import timedelta

from app.cases.services import open_case, perform_action
from app.metrics.services import rebuild_rollups
from app.timeutil import utcnow

from ..factories import make_order, make_user
from .conftest import PHONE


def refund(seller, at, *, answer_after, by_seller=True):
    order, buyer, _ = make_order(seller=seller, state="paid", now=at - timedelta(hours=1))
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=5_000, now=at)
    if by_seller:
        perform_action(case.id, "agree", actor=seller, now=at + answer_after)
    return case.id, buyer


def _history():
    """Shop A: 12 paid orders over the last 4 weeks, 4 refunds it agreed; a peer shop in its category with 6
    orders and 1 refund."""
    now = utcnow().replace(microsecond=0)
    seller, peer = make_user("seller"), make_user("seller")
    cases = []
    for n in range(4):
        cases.append(refund(seller, now - timedelta(days=3 + 6 * n), answer_after=timedelta(minutes=40 + 30 * n)))
    for n in range(8):
        make_order(seller=seller, state="paid", now=now - timedelta(days=1 + 3 * n))
    refund(peer, now - timedelta(days=10), answer_after=timedelta(minutes=15))
    for n in range(5):
        make_order(seller=peer, state="paid", now=now - timedelta(days=2 + 4 * n))
    rebuild_rollups(now=now)
    return seller, cases


def test_the_seller_sees_its_service_dashboard(ctx, open_as):
    seller, _ = _history()
    who = open_as(seller)
    who.go("/")
    who.page.get_by_role("link", name="服务质量").first.click()
    assert who.path == "/service"
    text = who.text()
    # 12 paid orders, 4 refunds: 33.3 %; the category pools 18 orders and 5 refunds: 27.8 %
    assert "支付订单数" in text and "33.3%" in text and "27.8%" in text and "暂无处罚" in text
    assert who.page.locator("svg.chart").count() == 2
    who.page.locator("details.help summary").click()
    assert "恶意" in who.text()
    who.assert_fits()
    who.shot("desktop")
    phone = open_as(seller, viewport=PHONE)
    phone.go("/service")
    phone.assert_fits()
    phone.shot("phone")


def test_a_mediator_sees_a_shops_dashboard(ctx, open_as):
    seller, _ = _history()
    who = open_as(make_user("mediator"))
    who.go(f"/shops/{seller.shop_id}/service")
    assert "33.3%" in who.text()
    who.shot("mediator")


def test_the_buyer_rates_a_closed_case(ctx, open_as):
    seller, cases = _history()
    case_id, buyer = cases[0]
    who = open_as(buyer)
    who.go(f"/cases/{case_id}")
    form = who.page.locator(f'form[action$="/cases/{case_id}/rating"]')
    form.locator('[name="rating-score"]').select_option("4")
    form.locator('[name="rating-comment"]').fill("卖家同意得很快，退款也及时到账。")
    who.shot("form")
    with who.page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "感谢评价" in who.text()
    rating = who.page.locator("#rating")
    assert "4 分（满分 5 分）" in rating.inner_text() and "退款也及时到账" in rating.inner_text()
    assert who.page.locator(f'form[action$="/cases/{case_id}/rating"]').count() == 0
    who.assert_fits()
    who.shot("rated")
    shop_view = open_as(seller)
    shop_view.go(f"/cases/{case_id}")
    assert "退款也及时到账" in shop_view.page.locator("#rating").inner_text()


def test_a_shop_alone_in_its_category_is_told_the_average_is_its_own(ctx, open_as):
    now = utcnow().replace(microsecond=0)
    seller = make_user("seller")
    refund(seller, now - timedelta(days=5), answer_after=timedelta(minutes=30))
    make_order(seller=seller, state="paid", now=now - timedelta(days=2))
    rebuild_rollups(now=now)
    phone = open_as(seller, viewport=PHONE)
    phone.go("/service")
    assert phone.text().count("本类目仅本店，均值即本店数据。") == 2
    assert phone.page.locator("svg.chart polyline.chart-strong").count() >= 2  # the shop's lines, drawn on top
    phone.assert_fits()
    phone.shot("alone-phone")
