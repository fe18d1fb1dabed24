"""Penalties in a real browser: a buyer's order is refused once the shop is restricted (12 points from a
mediator's ruling), the seller sees the banner with the case on their pages and cannot publish, and an admin
lifts the restriction with a reason — at desktop and phone width, screenshots in tests/artifacts/."""
from datetime import timedelta

from app.extensions import db
from app.timeutil import utcnow
from app.web import local_time

from ..execution.test_tasks import mediated
from ..factories import make_order, make_product, make_user
from .conftest import DESKTOP, PHONE


def test_a_restriction_refuses_an_order_shows_the_seller_its_case_and_an_admin_lifts_it(live_server, open_as, ctx):
    now = utcnow().replace(microsecond=0)
    order, buyer, seller = make_order(state="delivered", price_fen=12_900, now=now - timedelta(days=2))
    make_product(seller.shop, 25_900, title="不锈钢保温杯 500ml 男女通用大容量户外运动水杯")
    shop_id, shop_name = seller.shop_id, seller.shop.name

    shopper = open_as(buyer)
    shopper.go(f"/shops/{shop_id}")
    shopper.page.fill("input[name=buy-quantity]", "2")
    shopper.page.fill("input[name=buy-address]", "浙江省杭州市西湖区文三路 100 号")
    shopper.shot("shop-page-before")

    # meanwhile a mediator's ruling deducts 12 points: the shop is restricted for 7 days
    case = db.session.get(type(order), order.id)
    cid = mediated(case, buyer, seller, now, remedy="dismiss", penalties=[{"kind": "points", "points": 12}])
    from app.cases.models import Case
    number = db.session.get(Case, cid).number
    until = local_time(now + timedelta(days=7))

    with shopper.page.expect_navigation():
        shopper.page.click("form.buy-form button[type=submit]")
    shopper.assert_ok()
    assert shopper.path == f"/shops/{shop_id}"
    assert f"该店铺受处罚限制至 {until}：期间不能发布商品，也不能接受新订单。" in shopper.flash_text()
    assert shopper.sees(f"该店铺在 {until} 之前不接受新订单。")
    shopper.shot("order-refused")

    owner = open_as(seller)
    owner.go("/shop/orders")
    banner = owner.page.locator(".standing-banner").inner_text()
    assert f"{shop_name} 受处罚限制至 {until}" in banner and number in banner and "有效扣分：12 分" in banner
    owner.shot("seller-banner")
    owner.go("/shop/listings")
    owner.page.fill("input[name=listing-title]", "新款保温杯")
    owner.page.fill("input[name=listing-price]", "59.90")
    with owner.page.expect_navigation():
        owner.page.click("form.listing-form button[type=submit]")
    assert owner.sees(f"该店铺受处罚限制至 {until}：期间不能发布商品，也不能接受新订单。")
    owner.shot("publish-refused")
    owner.page.click(".standing-banner a:has-text('处罚状态与记录')")
    assert owner.sees("扣分") and owner.sees(number)
    owner.shot("seller-standing")

    phone = open_as(seller, viewport=PHONE)
    phone.go("/shop/orders").assert_fits()
    phone.shot("seller-banner-phone")
    phone.go(f"/shops/{shop_id}/standing").assert_fits()
    phone.shot("seller-standing-phone")

    admin = open_as(make_user("admin"))
    admin.go(f"/shops/{shop_id}/standing")
    admin.shot("admin-standing")
    admin.page.fill("textarea[name=lift-reason]", "卖家申诉成立：扣分依据的投诉已撤销")
    with admin.page.expect_navigation():
        admin.page.click("#lift button[type=submit]")
    assert "限制已解除。" in admin.flash_text() and admin.sees("正常")
    decisions = admin.page.locator("#decisions").inner_text()
    assert "管理员提前解除限制" in decisions and "卖家申诉成立" in decisions and "扣分达到阈值：限制经营" in decisions
    admin.shot("admin-lifted")

    shopper.go(f"/shops/{shop_id}")
    shopper.page.fill("input[name=buy-address]", "浙江省杭州市西湖区文三路 100 号")
    with shopper.page.expect_navigation():
        shopper.page.click("form.buy-form button[type=submit]")
    assert "订单已提交，请付款。" in shopper.flash_text()
    shopper.shot("order-placed")


def test_an_unpaid_order_of_a_shop_restricted_since_shows_why_it_cannot_be_paid(live_server, open_as, ctx):
    from app.orders.services import create_order
    now = utcnow().replace(microsecond=0)
    earlier, buyer, seller = make_order(state="delivered", now=now - timedelta(days=2))
    listing = make_product(seller.shop, 25_900, title="不锈钢保温杯 500ml 男女通用大容量户外运动水杯")
    order = create_order(buyer=buyer, items=[(listing, 1)], address="浙江省杭州市西湖区文三路 100 号",
                         now=now - timedelta(hours=1))
    mediated(earlier, buyer, seller, now, remedy="dismiss", penalties=[{"kind": "restrict", "days": 7}])
    until = local_time(now + timedelta(days=7))
    for name, viewport in (("unpaid-order-restricted", DESKTOP), ("unpaid-order-restricted-phone", PHONE)):
        shopper = open_as(buyer, viewport=viewport)
        shopper.go(f"/orders/{order.id}").assert_fits()
        assert shopper.sees(f"该店铺受处罚限制至 {until}：届时起可以付款，也可以现在关闭订单。")
        assert shopper.page.locator(f"form[action='/orders/{order.id}/actions/pay']").count() == 0
        assert shopper.page.locator(f"form[action='/orders/{order.id}/actions/close']").count() == 1
        shopper.shot(name)
