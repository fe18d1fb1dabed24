import pytest

from app.extensions import db
from app.orders.models import Order

from ..factories import make_order, make_user


def test_login_page_is_chinese_by_default_and_lists_demo_logins(client):
    html = client.get("/login").get_data(as_text=True)
    assert "登录" in html and "演示账号" in html and "buyer1" in html and "tiaojie-demo" in html


def test_buyer_logs_in_and_sees_their_orders_in_chinese_with_yuan_amounts(client, ctx, login_as):
    order, buyer, _ = make_order(state="paid", price_fen=12_34)
    other, _, _ = make_order(state="paid")
    login_as(buyer)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "我的订单" in html and order.number in html and other.number not in html
    assert "¥12.34" in html and "待发货" in html


def test_language_switch_shows_english(client, ctx, login_as):
    _, buyer, _ = make_order(state="paid")
    login_as(buyer)
    html = client.get("/lang/en?next=/orders", follow_redirects=True).get_data(as_text=True)
    assert "My orders" in html and "Paid, awaiting shipment" in html


def test_times_are_shown_in_shanghai_time(client, ctx, login_as):
    from datetime import datetime
    order, buyer, _ = make_order(state="created", now=datetime(2026, 11, 24, 16, 30))
    login_as(buyer)
    assert "2026-11-25 00:30" in client.get(f"/orders/{order.id}").get_data(as_text=True)


def test_wrong_password_shows_a_message_in_place(client, ctx):
    buyer = make_user("buyer")
    response = client.post("/login", data={"username": buyer.username, "password": "wrong"})
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 200 and "login" in response.request.path


def test_order_detail_shows_items_money_shipping_and_ledger(client, ctx, login_as):
    order, buyer, _ = make_order(state="shipped", price_fen=9_900)
    login_as(buyer)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert order.items[0].title in html and "SF100200300" in html
    assert "资金变动" in html and "付款进入担保" in html and "确认收货" in html  # the buyer's money, in words
    assert f"escrow:{order.id}" not in html


def test_seller_ships_from_the_order_page(client, ctx, login_as):
    order, _, seller = make_order(state="paid")
    login_as(seller)
    assert "运单号" in client.get(f"/orders/{order.id}").get_data(as_text=True)
    response = client.post(f"/orders/{order.id}/actions/ship", data={"carrier": "zto", "tracking_no": "ZT778899"},
                           follow_redirects=True)
    assert "已完成：发货" in response.get_data(as_text=True)
    assert db.session.get(Order, order.id).status == "shipped"


def test_ship_form_without_tracking_number_shows_message_and_writes_nothing(client, ctx, login_as):
    order, _, seller = make_order(state="paid")
    login_as(seller)
    html = client.post(f"/orders/{order.id}/actions/ship", data={"carrier": "zto"},
                       follow_redirects=True).get_data(as_text=True)
    assert "请检查表单" in html
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"


def test_action_not_allowed_now_shows_a_message(client, ctx, login_as):
    order, buyer, _ = make_order(state="paid")
    login_as(buyer)
    response = client.post(f"/orders/{order.id}/actions/confirm_receipt", data={"confirm": "y"},
                           headers={"Referer": f"/orders/{order.id}"}, follow_redirects=True)
    assert response.status_code == 200 and "该操作当前不可用" in response.get_data(as_text=True)
    assert db.session.get(Order, order.id).status == "paid"


def test_confirming_receipt_asks_for_the_confirmation_box_first(client, ctx, login_as):
    order, buyer, _ = make_order(state="delivered")
    login_as(buyer)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "货款将付给卖家，无法撤回" in page
    html = client.post(f"/orders/{order.id}/actions/confirm_receipt", follow_redirects=True).get_data(as_text=True)
    assert "请勾选以确认" in html
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "delivered"
    client.post(f"/orders/{order.id}/actions/confirm_receipt", data={"confirm": "y"})
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "completed"


@pytest.mark.parametrize("role,path,status", [
    (None, "/orders", 302), (None, "/shop/orders", 302),
    ("buyer", "/orders", 200), ("buyer", "/shop/orders", 403),
    ("seller", "/shop/orders", 200), ("seller", "/orders", 403),
    ("mediator", "/orders", 403), ("mediator", "/shop/orders", 403), ("mediator", "/cases", 200),
    ("admin", "/orders", 200),
])
def test_list_pages_access_matrix(client, ctx, login_as, role, path, status):
    if role:
        login_as(make_user(role))
    assert client.get(path).status_code == status


@pytest.mark.parametrize("role", ["buyer", "seller", "mediator"])
def test_another_partys_order_page_and_actions_are_404(client, ctx, login_as, role):
    order, _, _ = make_order(state="paid")
    login_as(make_user(role))
    assert client.get(f"/orders/{order.id}").status_code == 404
    expected = 403 if role == "mediator" else 404  # mediators never act on orders
    assert client.post(f"/orders/{order.id}/actions/ship", data={"carrier": "zto", "tracking_no": "1"}).status_code == expected
    assert db.session.get(Order, order.id).status == "paid"


def test_admin_sees_any_order(client, ctx, login_as):
    order, _, _ = make_order(state="paid")
    login_as(make_user("admin"))
    assert client.get(f"/orders/{order.id}").status_code == 200
    assert client.get("/orders/424242").status_code == 404


def test_logout_needs_post_and_ends_the_session(client, ctx, login_as):
    login_as(make_user("buyer"))
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/orders").status_code == 302


def test_forms_require_a_csrf_token_when_enabled(app, ctx):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        buyer = make_user("buyer")
        client = app.test_client()
        response = client.post("/login", data={"username": buyer.username, "password": "secret-pass"},
                               follow_redirects=True)
        assert "表单已过期" in response.get_data(as_text=True)
        assert client.get("/orders").status_code == 302  # still not logged in
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_nul_characters_in_forms_and_queries_are_refused(client, ctx, login_as):
    order, buyer, _ = make_order(state="paid")
    login_as(buyer)
    assert client.get("/orders?status=pa\x00id").status_code in (302, 400)
    response = client.post(f"/orders/{order.id}/messages", data={"chat-body": "hi\x00there"})
    assert response.status_code in (302, 400)
    from app.chat.models import OrderMessage
    assert db.session.query(OrderMessage).count() == 0


def test_pages_cannot_be_framed_and_signed_in_pages_are_not_cached(client, ctx, login_as):
    login_as(make_user("buyer"))
    response = client.get("/orders")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_refused_form_goes_back_only_to_a_page_of_this_site(client, ctx, login_as):
    order, buyer, _ = make_order(state="delivered")
    login_as(buyer)
    response = client.post(f"/orders/{order.id}/cases", data={"case-description": "坏\x00了"},
                           headers={"Referer": "https://evil.example/x"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    response = client.post(f"/orders/{order.id}/cases", data={"case-description": "坏\x00了"},
                           headers={"Referer": f"http://localhost/orders/{order.id}?tab=1"})
    assert response.headers["Location"] == f"/orders/{order.id}?tab=1"
