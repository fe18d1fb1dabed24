"""The seller's 待处理 inbox, return addresses (退货地址) end to end, the mediator's queue, complaints
and the order list's badges."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.cases.models import Case
from app.cases.services import open_case, perform_action
from app.catalog.models import ReturnAddress
from app.extensions import db
from app.timeutil import utcnow

from ..factories import make_order, make_user


def rows_of(html, table):
    body = re.search(rf'<table class="{table}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return re.findall(r"<tr(.*?)</tr>", body, re.S)


def test_seller_lands_on_the_inbox_sorted_by_deadline_with_the_next_24_hours_highlighted(client, ctx, login_as):
    seller = make_user("seller")
    now = utcnow()
    shipped, buyer1, _ = make_order(state="delivered", seller=seller, price_fen=30_000)   # 5 days to answer
    unshipped, buyer2, _ = make_order(state="paid", seller=seller, price_fen=12_300)      # 48 h to answer
    waiting_buyer, buyer3, _ = make_order(state="delivered", seller=seller)
    far = open_case(shipped.id, actor=buyer1, kind="refund_only", reason="quality", amount_fen=20_000,
                    now=now - timedelta(hours=1))
    near = open_case(unshipped.id, actor=buyer2, kind="refund_only", reason="other", amount_fen=12_300,
                     now=now - timedelta(hours=30))
    other = open_case(waiting_buyer.id, actor=buyer3, kind="refund_only", reason="quality", amount_fen=1_000)
    perform_action(other.id, "refuse", actor=seller, data={"reason": "已发货"})  # now waiting for the buyer
    response = login_as(seller) and client.get("/", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.request.path == "/shop/inbox"
    rows = rows_of(html, "inbox")
    assert len(rows) == 2 and near.number in rows[0] and far.number in rows[1]
    assert "due-soon" in rows[0] and "due-soon" not in rows[1]
    assert unshipped.number in rows[0] and "¥123.00" in rows[0] and buyer2.display_name in rows[0]
    assert unshipped.items[0].title in rows[0]
    assert other.number not in html


def test_the_inbox_reads_in_a_fixed_number_of_queries(app, client, ctx, login_as):
    seller = make_user("seller")
    for _ in range(4):
        order, buyer, _ = make_order(state="delivered", seller=seller)
        open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=100)
    login_as(seller)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        client.get("/shop/inbox")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "FROM cases" in s or "order_items" in s]) <= 3, statements


def test_return_address_from_the_sellers_page_to_the_buyers_order_page_and_the_api(app, client, ctx, login_as):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000)
    login_as(seller)
    bad = client.post("/shop/return-addresses", data={"address-contact": "周强", "address-phone": "",
                                                      "address-address": "杭州市余杭区文一西路 1500 号"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请填写此项" in html and "文一西路 1500 号" in html
    client.post("/shop/return-addresses", data={"address-contact": "周强", "address-phone": "0571-88001234",
                                                "address-address": "杭州市余杭区文一西路 1500 号"})
    client.post("/shop/return-addresses", data={"address-contact": "林晓", "address-phone": "021-62005678",
                                                "address-address": "上海市嘉定区曹安公路 2000 号"})
    first, second = db.session.query(ReturnAddress).order_by(ReturnAddress.id).all()
    assert first.is_default and not second.is_default
    client.post("/logout")
    case = open_case(order.id, actor=buyer, kind="return_refund", reason="quality", amount_fen=10_000)
    login_as(seller)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "退货地址" in page and "上海市嘉定区曹安公路 2000 号" in page
    client.post(f"/cases/{case.id}/actions/agree", data={"agree-return_address_id": str(second.id), "agree-confirm": "y",
                                                        "agree-expected_version": case.version})
    db.session.expire_all()
    assert case.state == "awaiting_return" and case.return_address["address"] == "上海市嘉定区曹安公路 2000 号"
    client.post("/logout")
    login_as(buyer)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "上海市嘉定区曹安公路 2000 号" in html and "021-62005678" in html
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)  # and beside the form to enter the parcel
    box = re.search(r'<section class="card return-address".*?</section>', html, re.S).group(0)
    assert "上海市嘉定区曹安公路 2000 号" in box and "021-62005678" in box
    perform_action(case.id, "ship_return", actor=buyer, data={"carrier": "sf", "tracking_no": "SF7788990011"})
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    box = re.search(r'<div class="return-address".*?</div>', html, re.S).group(0)
    assert "SF7788990011" in box and "顺丰" in box
    from ..api.helpers import token_for
    body = client.get(f"/api/v1/cases/{case.id}", headers=token_for(client, buyer)).get_json()
    assert body["return_address"] == {"id": second.id, "contact": "林晓", "phone": "021-62005678",
                                      "address": "上海市嘉定区曹安公路 2000 号"}


def test_another_shops_return_address_is_refused_and_the_timeout_uses_the_default(ctx):
    from app.catalog.services import save_return_address
    from app.errors import Invalid
    import pytest
    order, buyer, seller = make_order(state="delivered")
    other_seller = make_user("seller")
    foreign = save_return_address(actor=other_seller, contact="王", phone="1", address="别家仓库")
    mine = save_return_address(actor=seller, contact="周", phone="2", address="自家仓库")
    case = open_case(order.id, actor=buyer, kind="exchange", reason="wrong_item", amount_fen=0)
    with pytest.raises(Invalid) as err:
        perform_action(case.id, "agree", actor=seller, data={"return_address_id": foreign.id})
    assert err.value.details["return_address_id"].code == "return_address_other_shop"
    perform_action(case.id, "agree", actor=None)  # the system, on timeout
    assert db.session.get(Case, case.id).return_address["id"] == mine.id
    with pytest.raises(Exception):
        save_return_address(actor=seller, contact="x", phone="y", address="z", address_id=foreign.id)


def test_the_mediator_queue_sorts_by_deadline_and_counts_each_filter(client, ctx, login_as):
    mediator, other_mediator = make_user("mediator"), make_user("mediator")
    now = utcnow()
    cases = []
    for i, (price, ctype) in enumerate([(5_000, "quality"), (50_000, "abuse"), (20_000, "quality")]):
        order, buyer, seller = make_order(state="delivered", price_fen=price)
        case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=price,
                         now=now - timedelta(hours=10 * i))
        perform_action(case.id, "refuse", actor=seller, data={"reason": "不同意"}, now=now - timedelta(hours=10 * i))
        perform_action(case.id, "escalate", actor=buyer, data={"type": ctype}, now=now - timedelta(hours=10 * i))
        perform_action(case.id, "respond", actor=seller, data={"statement": "有聊天记录"},
                       now=now - timedelta(hours=10 * i))
        cases.append(db.session.get(Case, case.id))
    assert {c.phase for c in cases} == {"mediation"}
    perform_action(cases[0].id, "assign", actor=mediator)
    perform_action(cases[2].id, "assign", actor=other_mediator)  # not visible to `mediator`
    login_as(mediator)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    rows = rows_of(html, "queue")
    assert len(rows) == 2
    due = [db.session.get(Case, c.id).due_at for c in cases[:2]]
    assert (cases[0].number in rows[0]) == (due[0] <= due[1])
    counts = dict(re.findall(r'>([^<>]+?) <span class="count">(\d+)</span>', html))
    assert counts["未分配"] == "1" and counts["我的"] == "1" and counts["辱骂/骚扰"] == "1"
    html = client.get("/queue?unassigned=1").get_data(as_text=True)
    assert [cases[1].number in r for r in rows_of(html, "queue")] == [True]
    html = client.get("/queue?min=100&max=600").get_data(as_text=True)
    assert [cases[1].number in r for r in rows_of(html, "queue")] == [True]
    html = client.get("/queue?type=quality").get_data(as_text=True)
    assert [cases[0].number in r for r in rows_of(html, "queue")] == [True]
    html = client.get("/queue?overdue=1&phase=mediation").get_data(as_text=True)
    assert "queue" not in re.findall(r'<table class="(\w+)"', html) or all(
        db.session.get(Case, c.id).due_at < utcnow() for c in cases if c.number in html)


def test_buyer_files_a_complaint_from_an_order_and_from_a_listing(client, ctx, login_as):
    order, buyer, seller = make_order(state="shipped")
    login_as(buyer)
    assert "我要投诉" in client.get(f"/orders/{order.id}").get_data(as_text=True)
    page = client.get(f"/orders/{order.id}/complaint").get_data(as_text=True)
    assert "付款未发货" in page and "辱骂/骚扰" in page
    bad = client.post(f"/orders/{order.id}/complaint", data={"complaint-type": "made_up",
                                                               "complaint-description": "客服骂人"})
    assert bad.status_code == 422 and "请从选项中选择" in bad.get_data(as_text=True)
    assert "客服骂人" in bad.get_data(as_text=True)
    done = client.post(f"/orders/{order.id}/complaint", data={"complaint-type": "abuse",
                                                                "complaint-description": "客服骂人"})
    case = db.session.query(Case).one()
    assert done.status_code == 302 and (case.phase, case.complaint_type, case.order_id) == ("complaint", "abuse", order.id)
    listing_id = order.items[0].product_id
    client.post(f"/listings/{listing_id}/complaint", data={"complaint-type": "listing_violation",
                                                            "complaint-description": "图片与实物不符"})
    listed = db.session.query(Case).filter_by(listing_id=listing_id).one()
    assert listed.complaint_type == "listing_violation" and listed.order_id is None


def test_order_list_shows_refund_and_after_sales_badges(client, ctx, login_as):
    buyer = make_user("buyer")
    refunding, _, _ = make_order(buyer=buyer, state="delivered")
    exchanging, _, _ = make_order(buyer=buyer, state="delivered")
    quiet, _, _ = make_order(buyer=buyer, state="delivered")
    open_case(refunding.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=100)
    open_case(exchanging.id, actor=buyer, kind="exchange", reason="wrong_item", amount_fen=0)
    login_as(buyer)
    html = client.get("/orders").get_data(as_text=True)
    row = {o.number: re.search(rf"{o.number}.*?</tr>", html, re.S).group(0) for o in (refunding, exchanging, quiet)}
    assert "退款中" in row[refunding.number] and "售后中" in row[exchanging.number]
    assert "退款中" not in row[quiet.number] and "售后中" not in row[quiet.number]


def test_buyer_modifies_a_request_before_the_seller_answers_and_withdraws_from_the_order_page(client, ctx, login_as):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=5_000,
                     now=utcnow() - timedelta(hours=20))
    due = case.due_at
    perform_action(case.id, "modify", actor=buyer, data={"amount_fen": 6_000, "reason": "还有划痕"})
    case = db.session.get(Case, case.id)
    assert (case.state, case.amount_fen, case.waiting_for) == ("requested", 6_000, "seller") and case.due_at > due
    login_as(buyer)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "修改申请" in html and "确定撤销" in html
    client.post(f"/cases/{case.id}/actions/withdraw", data={"withdraw-expected_version": str(case.version),
                                                          "withdraw-confirm": "y"})
    db.session.expire_all()
    assert (case.phase, case.state) == ("closed", "withdrawn")


@pytest.mark.parametrize("path, role", [("/queue", "mediator"), ("/cases", "buyer"), ("/orders", "buyer")])
def test_a_page_number_past_any_list_is_an_empty_page_not_a_500(client, ctx, login_as, path, role):
    login_as(make_user(role))
    assert client.get(f"{path}?page={10**18}").status_code == 200
