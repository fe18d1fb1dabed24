import io
import re

import pytest

from app.cases.models import Case
from app.evidence.models import Evidence
from app.extensions import db

from ..evidence.test_evidence_api import png_bytes
from ..factories import make_order, make_user


def _open_case_page(client, login_as):
    order, buyer, seller = make_order(state="delivered", price_fen=12_000)
    login_as(buyer)
    response = client.post(f"/orders/{order.id}/cases", data={
        "case-kind": "refund_only", "case-reason": "damaged", "case-amount": "50.5",
        "case-description": "外包装破损"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    case = db.session.query(Case).one()
    return case, order, buyer, seller, html


def test_buyer_requests_after_sales_from_the_order_page(client, ctx, login_as):
    case, order, buyer, seller, html = _open_case_page(client, login_as)
    assert case.amount_fen == 5_050 and case.state == "requested"
    assert "售后申请" in html and case.number in html and "等待卖家处理" in html and "¥50.50" in html


def test_seller_acts_through_the_generated_forms(client, ctx, login_as):
    case, order, buyer, seller, _ = _open_case_page(client, login_as)
    client.post("/logout")
    login_as(seller)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "协商其他金额" in html and "拒绝" in html
    client.post(f"/cases/{case.id}/actions/counter_offer", data={
        "counter_offer-amount_fen": "20", "counter_offer-note": "补偿20元", "counter_offer-expected_version": case.version})
    db.session.expire_all()
    assert (case.state, case.offer_fen) == ("countered", 2_000)
    html = client.post(f"/cases/{case.id}/actions/counter_offer", data={
        "counter_offer-amount_fen": "1", "counter_offer-expected_version": case.version},
                       headers={"Referer": f"/cases/{case.id}"}, follow_redirects=True).get_data(as_text=True)
    assert "该操作当前不可用" in html and case.number in html


def test_messages_render_escaped(client, ctx, login_as):
    case, *_ = _open_case_page(client, login_as)
    client.post(f"/cases/{case.id}/messages", data={"body": "<script>alert(1)</script> 你好"})
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 你好" in html and "<script>alert(1)" not in html


def test_page_upload_rejection_shows_a_message_and_success_shows_the_evidence(app, client, ctx, login_as):
    case, *_ = _open_case_page(client, login_as)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        action = re.search(r'action="(/cases/\d+/evidence)"', page).group(1)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # sent before the file
        bad = client.post(action, data={"csrf_token": token, "file": (io.BytesIO(b"MZ\x90\x00" * 50), "a.png"),
                                        "kind": "photo"},
                          content_type="multipart/form-data", headers={"Referer": f"/cases/{case.id}"},
                          follow_redirects=True)
        assert bad.status_code == 200 and "不支持该文件类型" in bad.get_data(as_text=True)
        assert db.session.query(Evidence).count() == 0
        forged = client.post(f"/cases/{case.id}/evidence", data={"file": (io.BytesIO(png_bytes()), "a.png"),
                                                                  "kind": "photo"},
                             content_type="multipart/form-data", headers={"Referer": f"/cases/{case.id}"})
        assert forged.status_code == 302 and db.session.query(Evidence).count() == 0
        good = client.post(action, data={"csrf_token": token, "file": (io.BytesIO(png_bytes()), "破损.png"),
                                         "kind": "photo",
                                         "description": "快递箱破损"}, content_type="multipart/form-data")
        with client.session_transaction() as session:
            flashes = session.get("_flashes")
        assert good.status_code == 302 and good.headers["Location"].endswith("#evidence"), flashes
        html = client.get(good.headers["Location"]).get_data(as_text=True)
        assert "证据已上传" in html and "快递箱破损" in html
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_case_pages_access_matrix(client, ctx, login_as):
    case, *_ = _open_case_page(client, login_as)
    client.post("/logout")
    for role in ("buyer", "seller", "mediator"):
        login_as(make_user(role))
        assert client.get(f"/cases/{case.id}").status_code == 404
        assert client.post(f"/cases/{case.id}/actions/withdraw").status_code == 404
        assert client.post(f"/cases/{case.id}/messages", data={"body": "x"}).status_code == 404
        client.post("/logout")
    login_as(make_user("admin"))
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.post(f"/cases/{case.id}/messages", data={"body": "x"}).status_code in (302, 403)
    assert db.session.get(Case, case.id).state == "requested"


def test_order_and_case_pages_show_execution_steps_with_their_ledger_entries(client, ctx, login_as):
    from app.cases.services import perform_action
    case, order, buyer, seller, _ = _open_case_page(client, login_as)
    perform_action(case.id, "agree", actor=seller)
    for path in (f"/cases/{case.id}", f"/orders/{order.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "担保账户" in html and "¥50.50" in html and "已完成" in html
    # the buyer's case page: the money in words, no platform accounts (the order page's ledger is not yet so)
    assert f"escrow:{order.id}" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    client.post("/logout")
    login_as(make_user("admin"))
    for path in (f"/cases/{case.id}", f"/orders/{order.id}"):  # the platform's view keeps the ledger
        html = client.get(path).get_data(as_text=True)
        assert f"escrow:{order.id}" in html and "¥50.50" in html


def test_after_sales_form_only_on_orders_that_accept_a_request(client, ctx, login_as):
    from datetime import timedelta
    from app.timeutil import utcnow
    buyer = make_user("buyer")
    login_as(buyer)
    created, _, _ = make_order(buyer=buyer, state="created")
    recent, _, _ = make_order(buyer=buyer, state="completed", now=utcnow() - timedelta(days=3))
    old, _, _ = make_order(buyer=buyer, state="completed", now=utcnow() - timedelta(days=40))
    assert 'id="request-form"' in client.get(f"/orders/{recent.id}").get_data(as_text=True)
    for order in (created, old):
        assert 'id="request-form"' not in client.get(f"/orders/{order.id}").get_data(as_text=True)


@pytest.mark.parametrize("amount", ["50.125", "0.001", "NaN", "Infinity", "-Infinity", "1e400", "sNaN", "1e999999999", "-1e999999999"])
def test_a_page_amount_past_the_fen_or_not_a_number_is_a_form_error_and_nothing_is_written(
        client, ctx, login_as, amount):
    order, buyer, _ = make_order(state="delivered", price_fen=12_000)
    login_as(buyer)
    response = client.post(f"/orders/{order.id}/cases", data={
        "case-kind": "refund_only", "case-reason": "damaged", "case-amount": amount})
    html = response.get_data(as_text=True)
    assert response.status_code == 422  # shown in place, beside the amount, with the input kept
    message = "最多两位小数" if amount in ("50.125", "0.001") else "金额无效"
    assert re.search(r'<label for="case-amount">.*?' + message, html, re.S)
    assert db.session.query(Case).count() == 0


def test_a_counter_offer_in_sub_fen_is_refused_not_rounded(client, ctx, login_as):
    case, order, buyer, seller, _ = _open_case_page(client, login_as)
    client.post("/logout")
    login_as(seller)
    html = client.post(f"/cases/{case.id}/actions/counter_offer", follow_redirects=True, data={
        "counter_offer-amount_fen": "20.125", "counter_offer-expected_version": case.version}).get_data(as_text=True)
    assert "最多两位小数" in html
    db.session.expire_all()
    assert (case.state, case.offer_fen) == ("requested", None)


def test_an_astronomical_counter_offer_is_a_form_error_not_a_500(client, ctx, login_as):
    case, order, buyer, seller, _ = _open_case_page(client, login_as)
    client.post("/logout")
    login_as(seller)
    response = client.post(f"/cases/{case.id}/actions/counter_offer",
                           data={"counter_offer-amount_fen": "1e999999999", "counter_offer-expected_version": case.version})
    assert response.status_code == 422 and "金额无效" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (case.state, case.offer_fen) == ("requested", None)
