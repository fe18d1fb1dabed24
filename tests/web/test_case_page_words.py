"""What people read on the case page: the words the other party wrote, timeouts as sentences, errors beside
their fields in yuan with the input kept, and money in words for the parties (accounts for the platform)."""
import re

from flask import g

from app.cases.models import Case
from app.cases.services import perform_action
from app.deadlines.services import sweep
from app.extensions import db
from app.labels import SYSTEM_DONE, TIMEOUT_NEXT
from workflows.cases import PHASES

from .test_case_page_states import World, form_of, visible_text


def version(case_id, trigger):
    """What the case page's form for `trigger` sends back: the version it was rendered from."""
    db.session.expire_all()
    return {f"{trigger}-expected_version": db.session.get(Case, case_id).version}


def page(client, case_id):
    g.pop("_login_user", None)
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def as_user(app, user):
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": "secret-pass"}).status_code == 302
    return client


def test_every_system_step_and_every_timeout_in_the_tables_has_a_sentence():
    system = {(name, tr.trigger) for name, phase in PHASES.items() for tr in phase.spec.transitions
              if "system" in tr.roles}
    timeouts = {(name, s.on_timeout) for name, phase in PHASES.items() for s in phase.spec.states if s.on_timeout}
    assert sorted(system - set(SYSTEM_DONE)) == [], "add what the system did to app/labels.py SYSTEM_DONE"
    assert sorted(timeouts - set(TIMEOUT_NEXT)) == [], "add what the system will do to app/labels.py TIMEOUT_NEXT"


def test_the_buyer_reads_the_sellers_refusal_and_the_mediator_reads_both_sides(app, ctx):
    w = World()
    cid = w.refused()
    buyer_page = page(as_user(app, w.buyer), cid)
    history = visible_text(buyer_page)[visible_text(buyer_page).find("协商历史"):]
    assert "商品出库前检查完好" in history and "拒绝" in history and "外包装破损，商品有划痕" in history
    # the buyer escalates; the seller answers the complaint; the mediator proposes; the buyer rejects with a reason
    perform_action(cid, "escalate", actor=w.buyer, data={"type": "not_as_described", "description": "卖家拒不退款"})
    perform_action(cid, "respond", actor=w.seller, data={"statement": "买家使用后才提出退款，见聊天记录"})
    perform_action(cid, "assign", actor=w.mediator)
    perform_action(cid, "request_evidence", actor=w.mediator, data={"party": "seller", "note": "请卖家提供出库照片"})
    perform_action(cid, "start_review", actor=w.mediator)
    perform_action(cid, "propose", actor=w.mediator, data={"remedy": "partial_refund", "amount_fen": 2_500,
                                                           "findings": "包装破损属实", "rule": "物流破损 · 部分退款"})
    perform_action(cid, "reject_proposal", actor=w.buyer, data={"reason": "只退25元太少"})
    mediator_text = visible_text(page(as_user(app, w.mediator), cid))
    for words in ("商品出库前检查完好", "卖家拒不退款", "买家使用后才提出退款，见聊天记录", "请卖家提供出库照片",
                  "包装破损属实", "物流破损 · 部分退款", "只退25元太少", "¥25.00"):
        assert words in mediator_text, words
    # in resolution each party's confirmation is shown, and the seller reads the buyer's reason too
    seller_text = visible_text(page(as_user(app, w.seller), cid))
    assert "只退25元太少" in seller_text and "已拒绝" in seller_text and "无需再确认：由小二裁定" in seller_text and "待确认" not in seller_text


def test_the_api_events_carry_the_words_and_the_evidence(app, client, ctx):
    from ..api.helpers import token_for
    w = World()
    cid = w.refused()
    body = client.get(f"/api/v1/cases/{cid}/events", headers=token_for(client, w.buyer)).get_json()
    refuse = next(e for e in body["items"] if e["trigger"] == "refuse")
    opened = next(e for e in body["items"] if e["trigger"] == "open")
    assert refuse["texts"] == {"reason": "商品出库前检查完好"} and refuse["evidence_ids"] == []
    assert (opened["amount_fen"], opened["texts"]) == (5_000, {"description": "外包装破损，商品有划痕"})


def test_a_timeout_reads_as_what_happened_and_what_will_happen(app, ctx):
    w = World()
    cid = w.requested(state="paid", amount=12_000, reason="not_received")
    buyer = as_user(app, w.buyer)
    before = visible_text(page(buyer, cid))
    assert "等待卖家处理" in before and "到期未处理：系统将自动同意退款" in before and "剩余时间" in before
    assert re.search(r"\d+天\d+小时\d+分", before)  # the countdown, correct without JavaScript
    sweep(now=db.session.get(Case, cid).due_at)
    after = visible_text(page(buyer, cid))
    assert "卖家逾期未处理，系统已自动同意退款" in after and "执行完毕，案件已结束" in after
    assert "agree" not in after and "complete" not in after


def test_a_too_large_counter_offer_is_refused_beside_its_field_in_yuan_and_the_input_is_kept(app, ctx):
    w = World()
    cid = w.requested(amount=5_000)
    seller = as_user(app, w.seller)
    g.pop("_login_user", None)
    response = seller.post(f"/cases/{cid}/actions/counter_offer", data={**version(cid, "counter_offer"),
        "counter_offer-amount_fen": "80", "counter_offer-note": "最多补偿这么多"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    form = form_of(html, cid, "counter_offer")
    assert 'value="80"' in form and "最多补偿这么多" in form
    amount_field = re.search(r'<div class="field amount has-error".*?</div>\s*</div>', form, re.S).group(0)
    assert "金额需在 ¥0.01 至 ¥49.99 之间" in amount_field
    assert "amount_fen" not in visible_text(html) and "between 1 and" not in html
    db.session.expire_all()
    assert db.session.get(Case, cid).state == "requested"


def test_an_irreversible_step_needs_its_confirmation_box(app, ctx):
    w = World()
    cid = w.requested()
    seller = as_user(app, w.seller)
    g.pop("_login_user", None)
    refused = seller.post(f"/cases/{cid}/actions/agree", data=version(cid, "agree"))
    assert refused.status_code == 422 and "请勾选以确认" in form_of(refused.get_data(as_text=True), cid, "agree")
    db.session.expire_all()
    assert db.session.get(Case, cid).state == "requested"
    g.pop("_login_user", None)
    done = seller.post(f"/cases/{cid}/actions/agree", data={**version(cid, "agree"), "agree-confirm": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, cid).phase != "negotiation"


def test_the_mediator_rules_with_a_penalty_on_the_page_and_an_amount_over_the_refundable_stays_in_place(app, ctx):
    w = World()
    cid = w.rejected()
    listing = db.session.get(Case, cid).order.items[0].product_id
    mediator = as_user(app, w.mediator)
    data = {"rule-remedy": "partial_refund", "rule-amount_fen": "500", "rule-findings": "色差属实",
            "rule-rule": "描述不符", "rule-penalties-0-kind": "takedown", "rule-penalties-0-listing_id": str(listing),
            "rule-penalties-1-kind": "points", "rule-penalties-1-points": "99"}
    g.pop("_login_user", None)
    too_much = mediator.post(f"/cases/{cid}/actions/rule",
                             data={**version(cid, "rule"), **data, "rule-penalties-1-points": "6"})
    html = too_much.get_data(as_text=True)
    assert too_much.status_code == 422
    form = form_of(html, cid, "rule")
    assert "金额需在 ¥0.01 至 ¥120.00 之间" in form and 'value="500"' in form and "色差属实" in form
    g.pop("_login_user", None)
    points = mediator.post(f"/cases/{cid}/actions/rule", data={**version(cid, "rule"), **data,
                                                               "rule-amount_fen": "40"})
    assert points.status_code == 422 and "扣分需在 1 至 48 分之间" in form_of(points.get_data(as_text=True), cid, "rule")
    g.pop("_login_user", None)
    ruled = mediator.post(f"/cases/{cid}/actions/rule", data={**version(cid, "rule"), **data, "rule-amount_fen": "40",
                                                              "rule-penalties-1-points": "6"})
    assert ruled.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, cid)
    assert (case.remedy_type, case.remedy_amount_fen, case.remedy_final) == ("partial_refund", 4_000, True)
    assert case.penalties == [{"kind": "takedown", "listing_id": listing}, {"kind": "points", "points": 6}]
    text = visible_text(page(mediator, cid))
    assert "终局裁定" in text and "¥40.00" in text and "扣分: 6 分" in text.replace("：", ":")


def test_a_remedy_without_an_amount_needs_none(app, ctx):
    w = World()
    cid = w.under_review()
    mediator = as_user(app, w.mediator)
    g.pop("_login_user", None)
    response = mediator.post(f"/cases/{cid}/actions/propose", data={**version(cid, "propose"),
        "propose-remedy": "dismiss", "propose-amount_fen": "", "propose-findings": "证据不足", "propose-rule": "驳回"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (db.session.get(Case, cid).phase, db.session.get(Case, cid).remedy_type) == ("resolution", "dismiss")


def test_parties_see_their_money_in_words_and_the_platform_sees_the_accounts(app, ctx):
    w = World()
    cid = w.proposed(penalties=())
    perform_action(cid, "accept_proposal", actor=w.buyer)
    perform_action(cid, "accept_proposal", actor=w.seller)
    db.session.expire_all()
    case = db.session.get(Case, cid)
    assert (case.phase, case.state) == ("closed", "resolved")
    account = re.compile(r"\b(?:escrow|seller|platform|buyer):[\w:]+")
    for user in (w.buyer, w.seller):
        text = visible_text(page(as_user(app, user), cid))
        assert not account.findall(text) and "已退给买家" in text and "¥30.00" in text
        g.pop("_login_user", None)  # and the order page: money movements in words, no platform-internal entries
        text = visible_text(as_user(app, user).get(f"/orders/{case.order_id}").get_data(as_text=True))
        assert "资金变动" in text and "¥30.00" in text and not account.findall(text), text
    for user in (w.mediator, w.admin):
        assert f"escrow:{case.order_id}" in visible_text(page(as_user(app, user), cid))
        g.pop("_login_user", None)
        assert f"escrow:{case.order_id}" in visible_text(as_user(app, user).get(f"/orders/{case.order_id}")
                                                         .get_data(as_text=True))



def test_a_full_refund_ruling_shows_its_amount_in_the_history(app, ctx):
    w = World()
    cid = w.rejected()
    perform_action(cid, "rule", actor=w.mediator, data={"remedy": "full_refund", "amount_fen": 0, "findings": "属实",
                                                        "rule": "描述不符"})
    text = visible_text(page(as_user(app, w.buyer), cid))
    assert re.search(r"最终裁定\s*·\s*¥120\.00", text), text
