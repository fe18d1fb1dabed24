"""End-to-end API flows from the seed: negotiate → complain → mediate → resolve → execute."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.orders.models import Order
from app.orders.queries import money_for
from app.timeutil import utcnow

from ..factories import make_order, make_user
from .helpers import assert_error, token_for


def act(client, headers, case_id, name, **fields):
    response = client.post(f"/api/v1/cases/{case_id}/actions/{name}", json=fields, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(case):
    return [a["name"] for a in case["available_actions"]]


def test_seed_flow_refund_refused_escalated_mediated_partially_refunded(client, ctx):
    order, buyer, seller = make_order(state="delivered", price_fen=20_000)
    mediator = make_user("mediator")
    b, s, m = token_for(client, buyer), token_for(client, seller), token_for(client, mediator)

    response = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "refund_only", "reason": "not_as_described", "amount_fen": 20_000, "description": "颜色与描述不符"})
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    cid = case["id"]
    assert (case["phase"], case["state"], case["waiting_for"]) == ("negotiation", "requested", "seller")
    assert names(case) == ["modify", "withdraw"]
    assert names(client.get(f"/api/v1/cases/{cid}", headers=s).get_json()) == ["agree", "counter_offer", "refuse"]

    case = act(client, s, cid, "refuse", reason="商品与描述一致，有发货前照片")
    assert (case["state"], case["waiting_for"]) == ("refused", "buyer")
    case = act(client, b, cid, "escalate", type="not_as_described", description="卖家拒绝退款")
    assert (case["phase"], case["state"], case["waiting_for"]) == ("complaint", "awaiting_response", "seller")
    case = act(client, s, cid, "respond", statement="已提供聊天记录与发货照片")
    assert (case["phase"], case["state"]) == ("mediation", "queued")

    queue = client.get("/api/v1/cases?phase=mediation", headers=m).get_json()
    assert [c["id"] for c in queue["items"]] == [cid]
    case = act(client, m, cid, "assign")
    assert (case["state"], case["mediator_id"]) == ("assigned", mediator.id)
    case = act(client, m, cid, "request_evidence", party="seller", note="请补充发货前实拍")
    assert (case["state"], case["waiting_for"]) == ("evidence_period", "seller")
    case = act(client, m, cid, "start_review")
    case = act(client, m, cid, "propose", remedy="partial_refund", amount_fen=8_000,
               findings="色差明显但不影响使用", rule="描述不符 · 部分退款")
    assert (case["phase"], case["state"], case["remedy"]["amount_fen"]) == ("resolution", "proposed", 8_000)
    assert case["remedy"]["final"] is False

    case = act(client, b, cid, "accept_proposal")
    assert (case["state"], case["waiting_for"]) == ("proposed", "seller")
    assert names(case) == []
    case = act(client, s, cid, "accept_proposal")
    # execution runs inline after the commit: the refund comes out of escrow
    case = client.get(f"/api/v1/cases/{cid}", headers=b).get_json()
    assert (case["phase"], case["state"]) == ("closed", "resolved")
    execution = case["executions"][0]
    assert (execution["kind"], execution["state"], execution["paid_by"]) == ("refund", "done", "escrow")
    assert execution["ledger_entries"][0]["amount_fen"] == 8_000
    assert case["remedy"]["type"] == "partial_refund"
    money = money_for([order.id])[order.id]
    assert (money["refunded_fen"], money["escrow_fen"]) == (8_000, 12_000)
    audit = client.get(f"/api/v1/cases/{cid}/audit", headers=m).get_json()
    assert audit == {"valid": True, "events": 11, "anchors": 11, "problems": []}
    events = client.get(f"/api/v1/cases/{cid}/events?per_page=100", headers=b).get_json()["items"]
    assert [e["trigger"] for e in events][:3] == ["open", "refuse", "escalate"]
    assert db.session.get(Order, order.id).is_frozen is False


def test_seller_never_answers_and_the_sweeper_auto_agrees(client, ctx, runner):
    order, buyer, seller = make_order(state="paid", price_fen=6_600)
    oid, b = order.id, token_for(client, buyer)
    case = client.post(f"/api/v1/orders/{oid}/cases", headers=b, json={
        "kind": "refund_only", "reason": "not_received", "amount_fen": 6_600}).get_json()
    assert case["on_timeout"] == "agree"
    assert db.session.get(Order, oid).is_frozen is True
    at = (utcnow() + timedelta(hours=49)).isoformat() + "+00:00"
    result = runner.invoke(args=["deadlines", "run", "--at", at])
    assert "fired 1 case deadlines" in result.output, result.output
    case = client.get(f"/api/v1/cases/{case['id']}", headers=b).get_json()
    assert (case["phase"], case["state"], case["remedy"]["type"]) == ("closed", "resolved", "full_refund")
    assert db.session.get(Order, oid).status == "closed"
    assert money_for([oid])[oid]["refunded_fen"] == 6_600
    events = client.get(f"/api/v1/cases/{case['id']}/events", headers=b).get_json()["items"]
    assert [(e["trigger"], e["actor_role"]) for e in events] == [("open", "buyer"), ("agree", "system"),
                                                                  ("complete", "system")]


def test_action_not_available_is_409_with_the_allowed_actions_and_changes_nothing(client, ctx):
    order, buyer, seller = make_order(state="shipped")
    b = token_for(client, buyer)
    cid = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "return_refund", "reason": "quality", "amount_fen": 5_000}).get_json()["id"]
    error = assert_error(client.post(f"/api/v1/cases/{cid}/actions/agree", headers=b, json={}), 409,
                         "action_not_available")
    assert error["details"]["available_actions"] == ["modify", "withdraw"]
    assert client.get(f"/api/v1/cases/{cid}/audit", headers=b).get_json()["events"] == 1
    other = token_for(client, make_user("buyer"))
    assert_error(client.get(f"/api/v1/cases/{cid}", headers=other), 404, "not_found")
    assert_error(client.post(f"/api/v1/cases/{cid}/actions/withdraw", headers=other, json={}), 404, "not_found")


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_number_json_cannot_hold_is_422_anywhere_in_the_body_and_changes_nothing(client, ctx, literal):
    """JSON's `Infinity`/`NaN` literals (and 1e400) parse as floats Python accepts and PostgreSQL's
    JSON refuses: a penalty's extra key carried one into the case row and answered 500."""
    order, buyer, seller = make_order(state="delivered", price_fen=20_000)
    b, s, m = token_for(client, buyer), token_for(client, seller), token_for(client, make_user("mediator"))
    raw = {"Content-Type": "application/json"}
    error = assert_error(client.post(f"/api/v1/orders/{order.id}/cases", headers={**b, **raw}, data=(
        '{"kind": "refund_only", "reason": "quality", "amount_fen": %s}' % literal)), 422, "invalid")
    assert error["details"] == {"amount_fen": "must be a finite number"}
    cid = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "refund_only", "reason": "quality", "amount_fen": 1_000}).get_json()["id"]
    act(client, s, cid, "refuse", reason="无质量问题")
    act(client, b, cid, "escalate", type="quality", description="卖家拒绝")
    act(client, s, cid, "respond", statement="已发货")
    act(client, m, cid, "assign")
    act(client, m, cid, "start_review")
    events = client.get(f"/api/v1/cases/{cid}/audit", headers=m).get_json()["events"]
    error = assert_error(client.post(f"/api/v1/cases/{cid}/actions/propose", headers={**m, **raw}, data=(
        '{"remedy": "dismiss", "amount_fen": 0, "findings": "f", "rule": "r",'
        ' "penalties": [{"kind": "blacklist", "weight": %s}]}' % literal)), 422, "invalid")
    assert error["details"] == {"penalties": "must be a finite number"}
    case = client.get(f"/api/v1/cases/{cid}", headers=m).get_json()
    assert (case["phase"], case["state"], case["remedy"]) == ("mediation", "under_review", None)
    assert client.get(f"/api/v1/cases/{cid}/audit", headers=m).get_json()["events"] == events
