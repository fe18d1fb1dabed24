"""app.cases.services on the database: opening a request, rejected actions, negotiated
refunds, refunds after release, system messages and the audit chain. The money of an
agreed remedy moves in an execution task (app/execution); tests/execution/ covers the tasks."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.cases.audit import verify_chain
from app.cases.models import Case, CaseEvent, CaseMessage
from app.cases.services import file_complaint, open_case, perform_action
from app.db_tx import transaction
from app.errors import ActionNotAvailable, Conflict, Invalid, NotFound
from app.execution.services import tasks_of
from app.extensions import db
from app.orders.services import create_order, perform_order_action
from app.payments.models import JournalEntry
from app.payments.services import balance, buyer_funding_code, seller_code, transfer
from app.timeutil import utcnow

from ..factories import make_order, make_product, make_user
from ..readers import case_of, money, order_of


def H(n):
    return timedelta(hours=n)


@pytest.fixture
def t0():
    return utcnow().replace(microsecond=0)


def count(model, **where):
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.execute(query).scalar_one()


def events(case_id):
    return db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)
                              .order_by(CaseEvent.seq)).scalars().all()


def tasks(case_id):
    db.session.expire_all()
    return tasks_of(case_id)


def entries_of(task_id):
    return db.session.execute(select(JournalEntry).where(JournalEntry.task_id == task_id)
                              .order_by(JournalEntry.id)).scalars().all()


def act(case_id, trigger, actor, at, **data):
    perform_action(case_id, trigger, actor=actor, data=data, now=at)
    return case_of(case_id)


def case_snapshot(case_id):
    case = case_of(case_id)
    return {"phase": case.phase, "state": case.state, "event_count": case.event_count, "version": case.version,
            "due_at": case.due_at, "amount_fen": case.amount_fen, "offer_fen": case.offer_fen,
            "modify_count": case.modify_count, "audit_head": case.audit_head, "remedy_type": case.remedy_type,
            "messages": count(CaseMessage, case_id=case_id), "events": count(CaseEvent, case_id=case_id),
            "ledger": count(JournalEntry), "order_frozen": case.order.is_frozen if case.order else None,
            "tasks": [(t.kind, t.state, t.attempts, t.paid_by, t.due_at, t.version) for t in tasks(case_id)]}


# ---------------------------------------------------------------- opening an after-sales request

def _no_case_written(order_id):
    assert count(Case) == 0 and count(CaseEvent) == 0 and count(CaseMessage) == 0
    assert order_of(order_id).is_frozen is False


@pytest.mark.parametrize("order_state,kind,reason,amount,field", [
    ("delivered", "refund", "quality", 1_000, "kind"),
    ("delivered", "complaint", "quality", 1_000, "kind"),
    ("delivered", "refund_only", "no_reason_7d", 1_000, "reason"),   # not a refund_only reason
    ("delivered", "exchange", "late_shipment", 0, "reason"),
    ("delivered", "refund_only", "made_up", 1_000, "reason"),
    ("delivered", "refund_only", "quality", 10_001, "amount_fen"),   # more than was paid
    ("delivered", "refund_only", "quality", 0, "amount_fen"),
    ("delivered", "refund_only", "quality", -5, "amount_fen"),
    ("delivered", "refund_only", "quality", "5000", "amount_fen"),
    ("delivered", "refund_only", "quality", None, "amount_fen"),
    ("delivered", "compensation", "quality", 10_001, "amount_fen"),
    ("delivered", "exchange", "quality", 10_001, "amount_fen"),
    ("created", "refund_only", "not_received", 1_000, "order_id"),   # not paid
    ("paid", "return_refund", "quality", 1_000, "kind"),              # not shipped: refund only
    ("paid", "exchange", "wrong_item", 0, "kind"),
    ("paid", "compensation", "late_shipment", 1_000, "kind"),
])
def test_open_case_rejects_invalid_requests_with_details_and_writes_nothing(ctx, order_state, kind, reason, amount,
                                                                            field):
    order, buyer, _ = make_order(state=order_state, price_fen=10_000)
    with pytest.raises(Invalid) as err:
        open_case(order.id, actor=buyer, kind=kind, reason=reason, amount_fen=amount)
    assert field in err.value.details, err.value.details
    _no_case_written(order.id)


def test_a_paid_order_accepts_a_refund_only_request(ctx):
    order, buyer, _ = make_order(state="paid", price_fen=10_000)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="not_received", amount_fen=10_000)
    assert (case.phase, case.state, case.waiting_for) == ("negotiation", "requested", "seller")
    assert order_of(order.id).is_frozen is True


def test_closed_order_accepts_no_request(ctx):
    order, buyer, seller = make_order(state="paid", price_fen=10_000)
    perform_order_action(order.id, "close", actor=seller)
    with pytest.raises(Invalid) as err:
        open_case(order.id, actor=buyer, kind="refund_only", reason="other", amount_fen=1)
    assert "order_id" in err.value.details
    assert count(Case) == 0


def test_completed_order_accepts_requests_only_within_the_after_sales_window(ctx, t0):
    order, buyer, _ = make_order(state="completed", price_fen=10_000, now=t0)
    with pytest.raises(Invalid) as err:
        open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000,
                  now=t0 + H(15 * 24) + timedelta(seconds=1))
    assert "order_id" in err.value.details
    _no_case_written(order.id)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000,
                     now=t0 + H(15 * 24))
    assert (case.phase, case.state) == ("negotiation", "requested")


def _delivered_order(t0, promises):
    buyer, seller = make_user("buyer"), make_user("seller")
    product = make_product(seller.shop, 10_000, service_promises=promises)
    order = create_order(buyer=buyer, items=[(product, 1)], address="杭州市", now=t0)
    perform_order_action(order.id, "pay", actor=buyer, now=t0)
    perform_order_action(order.id, "ship", actor=seller, data={"carrier": "sf", "tracking_no": "SF1"}, now=t0)
    perform_order_action(order.id, "deliver", actor=None, now=t0 + H(24))
    return order, buyer


def test_no_reason_return_needs_the_listing_promise_and_the_7_days(ctx, t0):
    order, buyer = _delivered_order(t0, [])
    with pytest.raises(Invalid) as err:
        open_case(order.id, actor=buyer, kind="return_refund", reason="no_reason_7d", amount_fen=10_000,
                  now=t0 + H(48))
    assert "reason" in err.value.details
    _no_case_written(order.id)

    promised, buyer2 = _delivered_order(t0, ["no_reason_7d"])
    with pytest.raises(Invalid) as err:  # 7 days after delivery (t0 + 24 h) have passed
        open_case(promised.id, actor=buyer2, kind="return_refund", reason="no_reason_7d", amount_fen=10_000,
                  now=t0 + H(24 + 7 * 24) + timedelta(seconds=1))
    assert "reason" in err.value.details
    case = open_case(promised.id, actor=buyer2, kind="return_refund", reason="no_reason_7d", amount_fen=10_000,
                     now=t0 + H(24 + 7 * 24))
    assert (case.kind, case.reason, case.state) == ("return_refund", "no_reason_7d", "requested")


def test_one_open_case_per_order(ctx):
    order, buyer, _ = make_order(state="delivered", price_fen=10_000)
    first = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000)
    with pytest.raises(Conflict) as err:
        open_case(order.id, actor=buyer, kind="return_refund", reason="quality", amount_fen=1_000)
    assert "order_id" in err.value.details
    with pytest.raises(Conflict):
        file_complaint(actor=buyer, order_id=order.id, type="quality")
    assert count(Case) == 1 and count(CaseEvent) == 1
    perform_action(first.id, "withdraw", actor=buyer)
    second = open_case(order.id, actor=buyer, kind="return_refund", reason="quality", amount_fen=1_000)
    assert second.id != first.id


def test_at_most_five_cases_per_order(ctx):
    order, buyer, _ = make_order(state="delivered", price_fen=10_000)
    for _ in range(5):
        case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000)
        perform_action(case.id, "withdraw", actor=buyer)
    with pytest.raises(Invalid) as err:
        open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000)
    assert "order_id" in err.value.details
    assert count(Case) == 5
    assert order_of(order.id).is_frozen is False


def test_only_the_orders_buyer_may_open_a_request(ctx):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000)
    for actor in (make_user("buyer"), seller, make_user("mediator"), make_user("admin")):
        with pytest.raises(NotFound):
            open_case(order.id, actor=actor, kind="refund_only", reason="quality", amount_fen=1_000)
    for order_id in (order.id + 999, str(order.id), None):
        with pytest.raises(NotFound):
            open_case(order_id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000)
    _no_case_written(order.id)


def test_opening_freezes_the_order_and_records_the_request(ctx, t0):
    order, buyer, _ = make_order(state="shipped", price_fen=10_000, now=t0)
    case = open_case(order.id, actor=buyer, kind="return_refund", reason="damaged", amount_fen=8_000,
                     description="  外包装破损  ", now=t0 + H(1))
    assert (case.kind, case.reason, case.amount_fen, case.description) == ("return_refund", "damaged", 8_000,
                                                                          "外包装破损")
    assert case.number == f"TJ{t0 + H(1):%Y%m%d}-{case.id:06d}"
    order = order_of(order.id)
    assert (order.is_frozen, order.frozen_at) == (True, t0 + H(1))
    (event,) = events(case.id)
    assert (event.trigger, event.actor_id, event.actor_role, event.from_state, event.to_phase, event.to_state) == (
        "open", buyer.id, "buyer", None, "negotiation", "requested")
    assert event.payload == {"kind": "return_refund", "reason": "damaged", "amount_fen": 8_000,
                             "description": "外包装破损"}


# ---------------------------------------------------------------- a rejected action writes nothing

def _requested(t0):
    order, buyer, seller = make_order(state="shipped", price_fen=10_000, now=t0)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=t0)
    return case.id, {"buyer": buyer, "seller": seller}


OUTSIDERS = {"stranger": "buyer", "other_seller": "seller", "mediator": "mediator", "admin": "admin"}


# (steps to get there, actor, trigger, data, error, the available_actions named in the 409)
REJECTIONS = [
    ([], "buyer", "agree", {}, ActionNotAvailable, ["modify", "withdraw"]),
    ([], "seller", "accept_offer", {}, ActionNotAvailable, ["agree", "counter_offer", "refuse"]),
    ([], "seller", "withdraw", {}, ActionNotAvailable, ["agree", "counter_offer", "refuse"]),
    ([], "seller", "expire", {}, ActionNotAvailable, ["agree", "counter_offer", "refuse"]),
    ([], "seller", "no_such_action", {}, ActionNotAvailable, ["agree", "counter_offer", "refuse"]),
    ([], "seller", "assign", {}, ActionNotAvailable, ["agree", "counter_offer", "refuse"]),
    ([], "seller", "counter_offer", {}, Invalid, None),
    ([], "seller", "counter_offer", {"amount_fen": "6000"}, Invalid, None),
    ([], "seller", "counter_offer", {"amount_fen": 10_000}, Invalid, None),   # not less than asked
    ([], "seller", "counter_offer", {"amount_fen": 0}, Invalid, None),
    ([], "seller", "refuse", {"reason": "   "}, Invalid, None),
    ([], "stranger", "withdraw", {}, NotFound, None),
    ([], "other_seller", "agree", {}, NotFound, None),
    ([], "mediator", "withdraw", {}, NotFound, None),
    ([], "admin", "agree", {}, ActionNotAvailable, []),
    ([("seller", "refuse", {"reason": "不同意"})], "buyer", "modify", {"amount_fen": 10_001, "reason": "改"},
     Invalid, None),                                                         # more than refundable
    ([("seller", "refuse", {"reason": "不同意"})], "buyer", "escalate", {"type": "made_up"}, Invalid, None),
    ([("seller", "refuse", {"reason": "不同意"})], "buyer", "accept_offer", {}, ActionNotAvailable,
     ["modify", "escalate", "withdraw"]),
    ([("seller", "counter_offer", {"amount_fen": 5_000})], "seller", "agree", {}, ActionNotAvailable, []),
]


@pytest.mark.parametrize("steps,who,trigger,data,error,allowed", REJECTIONS,
                         ids=[f"{'+'.join(s[1] for s in r[0]) or 'requested'}-{r[1]}-{r[2]}-{i}"
                              for i, r in enumerate(REJECTIONS)])
def test_a_rejected_action_changes_nothing(ctx, t0, steps, who, trigger, data, error, allowed):
    cid, users = _requested(t0)
    for actor, step, step_data in steps:
        perform_action(cid, step, actor=users[actor], data=step_data, now=t0 + H(1))
    actor = users[who] if who in users else make_user(OUTSIDERS[who])
    before = case_snapshot(cid)
    with pytest.raises(error) as err:
        perform_action(cid, trigger, actor=actor, data=data, now=t0 + H(2))
    if allowed is not None:
        assert err.value.details == {"available_actions": allowed}
    if error is Invalid:
        assert err.value.details
    assert case_snapshot(cid) == before
    assert verify_chain(case_of(cid)) == (True, before["event_count"])


# ---------------------------------------------------------------- negotiated refunds

def test_counter_offer_accepted_refunds_the_offer_amount(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="not_as_described", amount_fen=10_000,
                    now=t0).id
    case = act(cid, "counter_offer", seller, t0 + H(1), amount_fen=6_000, note="退 60 元可以吗")
    assert (case.state, case.offer_fen, case.amount_fen, case.waiting_for) == ("countered", 6_000, 10_000, "buyer")
    case = act(cid, "accept_offer", buyer, t0 + H(2))
    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen) == (
        "closed", "resolved", "partial_refund", 6_000)
    # the refund is an execution task, run inline after the commit; the case completes when it is done
    assert [e.trigger for e in events(cid)] == ["open", "counter_offer", "accept_offer", "complete"]
    (task,) = tasks(cid)
    assert (task.kind, task.state, task.amount_fen, task.paid_by, task.due_at) == ("refund", "done", 6_000, "escrow",
                                                                                  None)
    (entry,) = entries_of(task.id)
    assert (entry.kind, entry.amount_fen, entry.case_id, entry.order_id) == ("refund", 6_000, cid, order.id)
    m = money(order.id)
    assert (m["refunded_fen"], m["escrow_fen"], m["refundable_fen"]) == (6_000, 4_000, 4_000)
    assert balance(buyer_funding_code(buyer.id)) == -10_000 + 6_000
    order = order_of(order.id)
    assert (order.status, order.is_frozen) == ("delivered", False)


def test_modify_after_a_counter_offer_drops_the_offer_and_the_seller_agrees_to_the_new_amount(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=t0).id
    act(cid, "counter_offer", seller, t0 + H(1), amount_fen=5_000)
    case = act(cid, "modify", buyer, t0 + H(2), amount_fen=7_000, reason="各让一步")
    assert (case.state, case.amount_fen, case.offer_fen, case.modify_count) == ("requested", 7_000, None, 1)
    assert case.due_at == t0 + H(2 + 5 * 24)  # a new seller deadline
    case = act(cid, "agree", seller, t0 + H(3))
    assert (case.phase, case.state, case.remedy_amount_fen) == ("closed", "resolved", 7_000)
    assert money(order.id)["refunded_fen"] == 7_000


def test_modify_is_limited_to_three_times_then_only_escalate_or_withdraw(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=t0).id
    for n in range(1, 4):
        act(cid, "refuse", seller, t0 + H(n), reason="不同意")
        case = act(cid, "modify", buyer, t0 + H(n), amount_fen=10_000 - n * 1_000, reason=f"第{n}次修改")
        assert (case.state, case.modify_count) == ("requested", n)
    act(cid, "refuse", seller, t0 + H(4), reason="还是不同意")
    before = case_snapshot(cid)
    with pytest.raises(ActionNotAvailable) as err:
        perform_action(cid, "modify", actor=buyer, data={"amount_fen": 5_000, "reason": "第4次"}, now=t0 + H(5))
    assert err.value.details == {"available_actions": ["escalate", "withdraw"]}
    assert case_snapshot(cid) == before
    case = act(cid, "escalate", buyer, t0 + H(5), type="not_as_described", description="卖家一直拒绝")
    assert (case.phase, case.state, case.complaint_type, case.waiting_for) == (
        "complaint", "awaiting_response", "not_as_described", "seller")
    assert "卖家一直拒绝" in case.description


# ---------------------------------------------------------------- refund after the money was released

def _refund_after_release(t0, amount_fen=6_000):
    order, buyer, seller = make_order(state="completed", price_fen=10_000, now=t0)
    assert balance(seller_code(seller.shop_id, "balance")) == 10_000
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=amount_fen,
                    now=t0 + H(1)).id
    case = act(cid, "agree", seller, t0 + H(1))
    # escrow is empty: the refund task waits for the seller, and so does the case
    assert (case.phase, case.state, case.waiting_for, case.on_timeout) == ("execution", "executing", "seller", "check")
    (task,) = tasks(cid)
    assert (task.kind, task.state, task.waiting_for, task.on_timeout) == (
        "refund", "awaiting_seller", "seller", "advance")
    assert task.due_at == task.updated_at + H(48)
    assert [e.trigger for e in events(cid)] == ["open", "agree"]
    assert entries_of(task.id) == []
    return order, buyer, seller, cid


def test_refund_after_release_is_paid_by_the_seller(ctx, t0):
    order, buyer, seller, cid = _refund_after_release(t0)
    with pytest.raises(ActionNotAvailable):
        perform_action(cid, "pay_refund", actor=buyer, now=t0 + H(2))
    case = act(cid, "pay_refund", seller, t0 + H(2))
    assert (case.phase, case.state, case.remedy_amount_fen) == ("closed", "resolved", 6_000)
    assert [(e.trigger, e.actor_role) for e in events(cid)][2:] == [("pay_refund", "seller"), ("complete", "system")]
    (task,) = tasks(cid)
    assert events(cid)[2].payload == {"task_id": task.id}
    assert (task.state, task.paid_by, task.due_at) == ("done", "seller", None)
    (entry,) = entries_of(task.id)
    assert (entry.kind, entry.amount_fen, entry.idempotency_key) == ("seller_refund", 6_000,
                                                                     f"task:{task.id}:refund:seller")
    assert balance(seller_code(seller.shop_id, "balance")) == 4_000
    assert balance(buyer_funding_code(buyer.id)) == -10_000 + 6_000
    assert order_of(order.id).is_frozen is False
    # what is left to refund on the order shrinks by the refund the seller paid
    m = money(order.id)
    assert (m["refunded_fen"], m["refundable_fen"]) == (6_000, 4_000)
    with pytest.raises(Invalid):
        open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=t0 + H(3))


def test_a_seller_without_the_money_cannot_pay_and_nothing_changes(ctx, t0):
    order, buyer, seller, cid = _refund_after_release(t0)
    with transaction():  # the shop withdrew its balance
        transfer(seller_code(seller.shop_id, "balance"), seller_code(seller.shop_id, "funding"), 10_000,
                 "test:payout", kind="payout")
    before = case_snapshot(cid)
    with pytest.raises(Invalid):
        perform_action(cid, "pay_refund", actor=seller, now=t0 + H(2))
    assert case_snapshot(cid) == before
    assert before["tasks"][0][:2] == ("refund", "awaiting_seller")  # still waiting for the seller
    assert balance(buyer_funding_code(buyer.id)) == -10_000


# ---------------------------------------------------------------- messages and the audit chain

def _full_story(t0):
    """Refused → escalated → answered → mediated with an evidence request → proposed → accepted → executed."""
    order, buyer, seller = make_order(state="delivered", price_fen=20_000, now=t0)
    mediator = make_user("mediator")
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="not_as_described", amount_fen=20_000,
                    now=t0).id
    steps = [
        (seller, "refuse", {"reason": "与描述一致"}),
        (buyer, "escalate", {"type": "not_as_described"}),
        (seller, "respond", {"statement": "有发货前照片"}),
        (mediator, "assign", {}),
        (mediator, "request_evidence", {"party": "seller"}),
        (mediator, "extend_evidence", {}),
        (mediator, "start_review", {}),
        (mediator, "propose", {"remedy": "partial_refund", "amount_fen": 8_000, "findings": "色差",
                               "rule": "描述不符"}),
        (buyer, "accept_proposal", {}),
        (seller, "accept_proposal", {}),
    ]
    for n, (actor, trigger, data) in enumerate(steps, start=1):
        perform_action(cid, trigger, actor=actor, data=data, now=t0 + H(n))
    return order, cid


def test_every_transition_posts_exactly_one_system_message(ctx, t0):
    order, cid = _full_story(t0)
    case = case_of(cid)
    assert (case.phase, case.state) == ("closed", "resolved")
    trail = events(cid)
    assert [e.trigger for e in trail] == [
        "open", "refuse", "escalate", "respond", "assign", "request_evidence", "extend_evidence", "start_review",
        "propose", "accept_proposal", "accept_proposal", "complete"]
    assert case.event_count == len(trail) == 12
    messages = db.session.execute(select(CaseMessage).where(CaseMessage.case_id == cid)
                                  .order_by(CaseMessage.id)).scalars().all()
    assert [m.event_id for m in messages] == [e.id for e in trail]
    for message, event in zip(messages, trail):
        assert (message.author_role, message.author_id, message.created_at) == ("system", None, event.created_at)
        arrow = f"{event.from_phase}/{event.from_state} → " if event.from_state else ""
        assert message.body == f"[{event.trigger}] {arrow}{event.to_phase}/{event.to_state}"
    # the trail is continuous: each event starts where the one before ended
    for previous, event in zip(trail, trail[1:]):
        assert (event.from_phase, event.from_state) == (previous.to_phase, previous.to_state)
    assert (trail[-1].to_phase, trail[-1].to_state) == ("closed", "resolved")
    assert money(order.id)["refunded_fen"] == 8_000


def test_the_audit_chain_verifies_and_shows_tampering(ctx, t0):
    _, cid = _full_story(t0)
    case = case_of(cid)
    assert verify_chain(case) == (True, 12)
    trail = events(cid)
    assert trail[0].prev_hash == "" and all(e.prev_hash == p.hash for p, e in zip(trail, trail[1:]))
    assert case.audit_head == trail[-1].hash
    propose = next(e for e in trail if e.trigger == "propose")
    original = dict(propose.payload)

    with transaction():  # someone rewrites the proposed amount directly in the database
        db.session.execute(update(CaseEvent.__table__).where(CaseEvent.__table__.c.id == propose.id)
                           .values(payload={**original, "amount_fen": 20_000}))
    assert verify_chain(case_of(cid)) == (False, 12)

    with transaction():  # put it back: the chain is whole again
        db.session.execute(update(CaseEvent.__table__).where(CaseEvent.__table__.c.id == propose.id)
                           .values(payload=original))
    assert verify_chain(case_of(cid)) == (True, 12)

    with transaction():  # change who acted
        db.session.execute(update(CaseEvent.__table__).where(CaseEvent.__table__.c.id == trail[1].id)
                           .values(actor_role="system"))
    assert verify_chain(case_of(cid)) == (False, 12)


def test_removing_the_last_event_shows_in_the_chain(ctx, t0):
    _, cid = _full_story(t0)
    last = events(cid)[-1]
    with transaction():
        db.session.execute(CaseMessage.__table__.delete().where(CaseMessage.__table__.c.event_id == last.id))
        db.session.execute(CaseEvent.__table__.delete().where(CaseEvent.__table__.c.id == last.id))
    assert verify_chain(case_of(cid)) == (False, 11)


def test_a_complaint_about_an_unpaid_order_is_refused_and_writes_nothing(ctx):
    order, buyer, _ = make_order(state="created")
    with pytest.raises(Invalid) as err:
        file_complaint(actor=buyer, order_id=order.id, type="not_shipped")
    assert err.value.details["order_id"].code == "order_not_open"
    assert db.session.query(Case).count() == 0
