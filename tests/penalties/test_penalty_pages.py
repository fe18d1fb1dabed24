"""What people see of penalties: the seller's banner with the case that caused it, the refusals in the pages
and the API (409 shop_not_selling), the standing page for the seller, mediators and admins, and the admin
lifting a restriction with a reason."""
import re
from datetime import timedelta

import pytest

from app.admin_audit import AdminEvent
from app.auth.models import User
from app.catalog.models import Product, Shop
from app.extensions import db
from app.orders.models import Order
from app.timeutil import utcnow
from app.web import local_time

from ..api.helpers import assert_error, token_for
from ..execution.test_tasks import mediated
from ..factories import make_order, make_product, make_user
from ..readers import case_of, fresh

DAY = timedelta(days=1)


def text(response):
    """The page's visible words, tags and runs of white space folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def restricted(ctx):
    """A shop restricted for 7 days from a ruling executed an hour ago (24 points: 14 days from its 24th)."""
    now = utcnow().replace(microsecond=0) - timedelta(hours=1)
    order, buyer, seller = make_order(state="delivered", now=now - DAY)
    listing = make_product(seller.shop, 8_800, title="保温杯")
    cid = mediated(order, buyer, seller, now, remedy="dismiss", penalties=[{"kind": "restrict", "days": 7}])
    return {"buyer": buyer, "seller": seller, "listing": listing, "case": case_of(cid), "until": now + 7 * DAY,
            "shop_id": seller.shop_id}


def test_the_seller_sees_the_restriction_banner_with_its_case_on_every_page(client, login_as, restricted):
    login_as(restricted["seller"])
    until, case = local_time(restricted["until"]), restricted["case"]
    for path in ("/shop/orders", "/shop/listings", "/shop/return-addresses"):
        page = text(client.get(path))
        assert f"受处罚限制至 {until}：期间不能发布商品，不能接受新订单。" in page
        assert f"起因案件 {case.number}" in page
    standing = client.get(f"/shops/{restricted['shop_id']}/standing")
    page = text(standing)
    assert "限制经营" in page and f"至 {until}" in page and "有效扣分 0" in page
    assert "满 12 / 24 / 36 分：分别限制经营 7 / 14 / 21 天；满 48 分：列入黑名单（查封）。" in page
    assert "提前解除限制" not in page  # the seller reads; only an admin lifts


def test_a_restricted_shop_cannot_publish_a_listing_in_the_page_or_the_api(client, login_as, restricted):
    login_as(restricted["seller"])
    response = client.post("/shop/listings", data={"listing-title": "新品", "listing-category": "home",
                                                   "listing-price": "12.50", "listing-ship_within_hours": "48"})
    assert response.status_code == 422
    assert (f"该店铺受处罚限制至 {local_time(restricted['until'])}：期间不能发布商品，也不能接受新订单。"
            in text(response))
    headers = token_for(client, restricted["seller"])
    error = assert_error(client.post("/api/v1/listings", headers=headers,
                                     json={"title": "新品", "category": "home", "price_fen": 1_250}), 409,
                         "shop_not_selling")
    assert error["details"] == {"shop": f"restricted until {restricted['until'].isoformat()}+00:00"}
    assert db.session.query(Product).filter_by(shop_id=restricted["shop_id"]).count() == 2


def test_a_buyer_ordering_from_a_restricted_shop_is_refused_in_the_page_and_the_api(client, login_as, restricted):
    login_as(restricted["buyer"])
    shop_page = client.get(f"/shops/{restricted['shop_id']}")
    assert f"该店铺在 {local_time(restricted['until'])} 之前不接受新订单。" in text(shop_page)
    assert "购买" not in text(shop_page)  # no button that cannot work
    # a buyer who opened the page before the restriction still sends the form: refused, with the reason
    response = client.post("/orders/new", data={"buy-listing_id": str(restricted["listing"].id),
                                                "buy-quantity": "1", "buy-address": "杭州市西湖区"},
                           headers={"Referer": f"http://localhost/shops/{restricted['shop_id']}"},
                           follow_redirects=True)
    assert response.request.path == f"/shops/{restricted['shop_id']}"
    assert "该店铺受处罚限制至" in text(response)
    error = assert_error(client.post("/api/v1/orders", headers=token_for(client, restricted["buyer"]), json={
        "items": [{"listing_id": restricted["listing"].id, "quantity": 1}], "address": "杭州"}), 409,
        "shop_not_selling")
    assert set(error["details"]) == {"shop"}
    assert db.session.query(Order).filter_by(shop_id=restricted["shop_id"]).count() == 1  # the earlier one only


def test_a_buyer_orders_from_a_shop_in_good_standing_in_the_page_and_the_api(client, ctx, login_as):
    seller, buyer = make_user("seller"), make_user("buyer")
    listing = make_product(seller.shop, 3_990, title="帆布包")
    login_as(buyer)
    assert seller.shop.name in text(client.get("/shops"))
    assert "帆布包 ¥39.90" in text(client.get(f"/shops/{seller.shop_id}"))
    response = client.post("/orders/new", data={"buy-listing_id": str(listing.id), "buy-quantity": "2",
                                                "buy-address": "杭州市西湖区"}, follow_redirects=True)
    assert "订单已提交，请付款。" in text(response) and "¥79.80" in text(response)
    response = client.post("/api/v1/orders", headers=token_for(client, buyer),
                           json={"items": [{"listing_id": listing.id, "quantity": 1}], "address": "上海"})
    assert response.status_code == 201
    assert (response.get_json()["total_fen"], response.get_json()["status"]) == (3_990, "created")


def test_a_blacklisted_shop_page_says_it_is_closed(client, ctx, login_as):
    now = utcnow().replace(microsecond=0) - timedelta(hours=1)
    order, buyer, seller = make_order(state="delivered", now=now - DAY)
    make_product(seller.shop, title="台灯")
    mediated(order, buyer, seller, now, remedy="dismiss", penalties=[{"kind": "blacklist"}])
    login_as(buyer)
    page = text(client.get(f"/shops/{seller.shop_id}"))
    assert "该店铺已关闭，不接受订单。" in page and "台灯" not in page and "暂无在售商品。" in page


def test_the_mediator_sees_the_standing_on_the_case_page_and_the_admin_lifts_it(client, login_as, restricted):
    case = restricted["case"]
    login_as(db.session.get(User, case.mediator_id))  # the case's mediator
    assert "受处罚限制至" in text(client.get(f"/cases/{case.id}"))
    assert "店铺处罚状态" in text(client.get(f"/shops/{restricted['shop_id']}/standing"))
    assert client.post(f"/shops/{restricted['shop_id']}/standing/restriction",
                       data={"lift-reason": "x"}).status_code == 403
    client.post("/logout")
    admin = make_user("admin")
    login_as(admin)
    response = client.post(f"/shops/{restricted['shop_id']}/standing/restriction", data={"lift-reason": "  "})
    assert response.status_code == 422 and "请填写此项。" in text(response)
    response = client.post(f"/shops/{restricted['shop_id']}/standing/restriction",
                           data={"lift-reason": "申诉成立"}, follow_redirects=True)
    assert "限制已解除。" in text(response) and "正常" in text(response)
    assert f"管理员提前解除限制 申诉成立 {admin.display_name}" in text(response)
    html = response.get_data(as_text=True)  # the decisions card once, in the page — not in the <title>
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "店铺处罚状态" in title and html.count('id="decisions"') == 1
    assert fresh(Shop, restricted["shop_id"]).restricted_until <= utcnow()
    event = db.session.query(AdminEvent).filter_by(action="shop.lift_restriction").one()
    assert (event.actor_id, event.reason, event.target_id) == (admin.id, "申诉成立", str(restricted["shop_id"]))
    # lifted, with no points in force: the shop is no longer under a penalty, so no longer listed
    assert restricted["seller"].shop.name not in text(client.get("/shops/penalised"))


def test_the_penalised_list_shows_shops_under_a_penalty_with_points_in_force_and_the_next_threshold(
        client, ctx, login_as):
    now = utcnow().replace(microsecond=0)
    shops = {}
    for name, at, points in (("扣分店", now - DAY, 6), ("旧扣分店", now - 400 * DAY, 6), ("重罚店", now - DAY, 40)):
        order, buyer, seller = make_order(state="delivered", now=at - DAY)
        mediated(order, buyer, seller, at, remedy="dismiss", penalties=[{"kind": "points", "points": points}])
        shops[name] = seller.shop.name
    login_as(make_user("mediator"))
    page = text(client.get("/shops/penalised"))
    # 40 points crossed 12, 24 and 36: restricted 21 days; the points of 400 days ago have expired
    assert f"{shops['重罚店']} 限制经营 至 " in page and " 40 48 分：查封 " in page
    assert f"{shops['扣分店']} 正常 6 12 分：限制 7 天 " in page
    assert shops["旧扣分店"] not in page
    assert page.index(shops["重罚店"]) < page.index(shops["扣分店"])
