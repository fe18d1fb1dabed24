"""Every timeout of DOMAIN.md on real cases: drive a case through the services to the
state, sweep just before its deadline (nothing happens) and at it, and check what a user
would see — phase/state, the system's audit event, the money and the order. An agreed
remedy is carried out by execution tasks (app/execution): the case then waits in
execution/executing and completes (`complete`) once its tasks are done."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.cases.audit import verify_chain
from app.cases.models import CaseEvent, CaseMessage
from app.cases.services import file_complaint, open_case, perform_action
from app.db_tx import transaction
from app.errors import ActionNotAvailable
from app.deadlines.services import sweep
from app.execution.services import tasks_of
from app.extensions import db
from app.payments.models import JournalEntry
from app.payments.services import balance, buyer_funding_code, receivable_code, seller_code, transfer
from app.shipping.models import Shipment
from app.timeutil import utcnow

from ..factories import make_order, make_user
from ..readers import case_of, money, order_of, task_of


def H(n):
    return timedelta(hours=n)


SECOND = timedelta(seconds=1)


@pytest.fixture
def t0():
    """The test's clock starts now, so the inline execution (which runs at the real time)
    happens at about the same moment as the rest of the story."""
    return utcnow().replace(microsecond=0)


def events(case_id):
    return db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)
                              .order_by(CaseEvent.seq)).scalars().all()


def triggers(case_id):
    return [(e.trigger, e.actor_role) for e in events(case_id)]


def system_messages(case_id):
    return db.session.execute(select(CaseMessage).where(CaseMessage.case_id == case_id,
                                                        CaseMessage.author_role == "system")).scalars().all()


def tasks(case_id):
    db.session.expire_all()
    return tasks_of(case_id)


def entries_of(task_id):
    return db.session.execute(select(JournalEntry).where(JournalEntry.task_id == task_id)
                              .order_by(JournalEntry.id)).scalars().all()


def where(case_id):
    case = case_of(case_id)
    return case.phase, case.state


def assert_quiet_until(due, case_id):
    """Sweeping one second before the deadline fires nothing and changes nothing."""
    before = case_of(case_id)
    snapshot = (before.phase, before.state, before.due_at, before.event_count, before.version)
    result = sweep(now=due - SECOND)
    assert (result.fired, result.failed) == (0, 0)
    after = case_of(case_id)
    assert (after.phase, after.state, after.due_at, after.event_count, after.version) == snapshot


def assert_fires(due, case_id, trigger):
    """Sweeping at the deadline fires `trigger` as the system, once; a second sweep fires nothing."""
    count = case_of(case_id).event_count
    result = sweep(now=due)
    assert (result.fired, result.failed, result.errors) == (1, 0, [])
    fired = [e for e in events(case_id) if e.seq > count]
    assert (fired[0].trigger, fired[0].actor_role, fired[0].actor_id) == (trigger, "system", None)
    assert fired[0].created_at == due
    again = sweep(now=due)
    assert (again.fired, again.failed) == (0, 0)
    case = case_of(case_id)
    assert verify_chain(case) == (True, case.event_count)
    assert len(system_messages(case_id)) == case.event_count
    return case


def ship(case_id, trigger, actor, at):
    return perform_action(case_id, trigger, actor=actor, data={"carrier": "sf", "tracking_no": "SF8800990011"},
                          now=at)


def to_mediation(order, buyer, seller, at, type="not_as_described"):
    """A complaint on the order that the seller answers: the case is queued for a mediator."""
    cid = file_complaint(actor=buyer, order_id=order.id, type=type, description="描述不符", now=at).id
    perform_action(cid, "respond", actor=seller, data={"statement": "已提供聊天记录"}, now=at)
    assert where(cid) == ("mediation", "queued")
    return cid


def to_proposal(order, buyer, seller, mediator, at, remedy="partial_refund", amount_fen=8_000):
    cid = to_mediation(order, buyer, seller, at)
    perform_action(cid, "assign", actor=mediator, now=at)
    perform_action(cid, "start_review", actor=mediator, now=at)
    perform_action(cid, "propose", actor=mediator, now=at, data={
        "remedy": remedy, "amount_fen": amount_fen, "findings": "色差明显", "rule": "描述不符 · 部分退款"})
    assert where(cid) == ("resolution", "proposed")
    return cid


# ---------------------------------------------------------------- negotiation: requested

def test_requested_unshipped_seller_silent_48h_auto_agrees_and_refunds(ctx, t0):
    order, buyer, seller = make_order(state="paid", price_fen=6_600, now=t0)
    oid, buyer_id = order.id, buyer.id
    case = open_case(oid, actor=buyer, kind="refund_only", reason="not_received", amount_fen=6_600, now=t0 + H(1))
    cid, due = case.id, t0 + H(1 + 48)
    assert (case.due_at, case.on_timeout, case.waiting_for) == (due, "agree", "seller")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "agree")

    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen) == (
        "closed", "resolved", "full_refund", 6_600)
    assert (case.due_at, case.waiting_for, case.on_timeout) == (None, None, None)
    assert triggers(cid) == [("open", "buyer"), ("agree", "system"), ("complete", "system")]
    (task,) = tasks(cid)
    assert (task.kind, task.state, task.paid_by, task.amount_fen) == ("refund", "done", "escrow", 6_600)
    assert {k: money(oid)[k] for k in ("refunded_fen", "escrow_fen", "refundable_fen")} == {
        "refunded_fen": 6_600, "escrow_fen": 0, "refundable_fen": 0}
    assert balance(buyer_funding_code(buyer_id)) == 0  # paid 6 600, got 6 600 back
    order = order_of(oid)
    assert (order.status, order.is_frozen) == ("closed", False)


def test_inline_execution_after_a_sweep_happens_at_the_sweep_time(ctx, t0):
    """`flask deadlines run --at` sweeps as if it were a later time: the refund the timeout
    triggers, the case's closing and the order's resumed auto-confirmation belong to that
    time too (the timeline must stay in order and the frozen time must be credited)."""
    order, buyer, _ = make_order(state="shipped", price_fen=10_000, now=t0)
    oid = order.id
    cid = open_case(oid, actor=buyer, kind="refund_only", reason="quality", amount_fen=4_000, now=t0 + H(1)).id
    due = t0 + H(1 + 5 * 24)
    sweep(now=due)
    stamps = [(e.trigger, e.created_at) for e in events(cid)]
    assert [t for t, _ in stamps] == ["open", "agree", "complete"]
    assert [at for _, at in stamps] == sorted(at for _, at in stamps), stamps
    assert case_of(cid).closed_at == due
    (task,) = tasks(cid)
    assert [e.created_at for e in entries_of(task.id)] == [due]
    # auto-confirmation resumes later by the time the order was frozen (t0 + 1 h → due)
    assert order_of(oid).auto_confirm_at == t0 + H(10 * 24) + (due - (t0 + H(1)))


def test_requested_shipped_seller_silent_5_days_auto_agrees_the_refund(ctx, t0):
    order, buyer, seller = make_order(state="shipped", price_fen=10_000, now=t0)
    oid = order.id
    case = open_case(oid, actor=buyer, kind="refund_only", reason="not_as_described", amount_fen=4_000,
                     now=t0 + H(1))
    cid, due = case.id, t0 + H(1 + 5 * 24)
    assert (case.due_at, case.on_timeout, case.waiting_for) == (due, "agree", "seller")

    # the 48 h of an unshipped order do not apply
    result = sweep(now=t0 + H(1 + 48))
    assert result.fired == 0 and where(cid) == ("negotiation", "requested")
    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "agree")

    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen) == (
        "closed", "resolved", "partial_refund", 4_000)
    assert triggers(cid)[1:] == [("agree", "system"), ("complete", "system")]
    m = money(oid)
    assert (m["refunded_fen"], m["escrow_fen"], m["refundable_fen"]) == (4_000, 6_000, 6_000)
    order = order_of(oid)
    assert (order.status, order.is_frozen, order.frozen_at) == ("shipped", False, None)


def test_requested_return_refund_seller_silent_5_days_sends_the_return_address(ctx, t0):
    order, buyer, seller = make_order(state="shipped", price_fen=10_000, now=t0)
    oid = order.id
    cid = open_case(oid, actor=buyer, kind="return_refund", reason="quality", amount_fen=10_000, now=t0 + H(1)).id
    due = t0 + H(1 + 5 * 24)

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "agree")

    assert (case.phase, case.state, case.waiting_for, case.on_timeout) == (
        "negotiation", "awaiting_return", "buyer", "expire")
    assert case.due_at == due + H(7 * 24)
    assert (money(oid)["refunded_fen"], money(oid)["escrow_fen"]) == (0, 10_000)
    assert order_of(oid).is_frozen is True


# ---------------------------------------------------------------- negotiation: the buyer is silent

@pytest.mark.parametrize("seller_step,data", [
    ("counter_offer", {"amount_fen": 6_000, "note": "部分退款可以吗"}),
    ("refuse", {"reason": "商品与描述一致"}),
])
def test_countered_or_refused_buyer_silent_7_days_expires_and_the_order_resumes(ctx, t0, seller_step, data):
    order, buyer, seller = make_order(state="shipped", price_fen=10_000, now=t0)
    oid, shop_id = order.id, seller.shop_id
    cid = open_case(oid, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=t0 + H(1)).id
    assert order_of(oid).frozen_at == t0 + H(1)
    perform_action(cid, seller_step, actor=seller, data=data, now=t0 + H(2))
    due = t0 + H(2 + 7 * 24)
    case = case_of(cid)
    assert (case.due_at, case.on_timeout, case.waiting_for) == (due, "expire", "buyer")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "expire")

    assert (case.phase, case.state, case.closed_at, case.due_at) == ("closed", "expired", due, None)
    m = money(oid)
    assert (m["refunded_fen"], m["escrow_fen"]) == (0, 10_000)
    order = order_of(oid)
    frozen_for = due - (t0 + H(1))
    new_auto_confirm = t0 + H(10 * 24) + frozen_for
    assert (order.status, order.is_frozen, order.frozen_at, order.auto_confirm_at) == (
        "shipped", False, None, new_auto_confirm)

    # the original 10 days no longer confirm receipt; the pushed-back deadline does
    assert sweep(now=t0 + H(10 * 24)).orders_confirmed == 0
    assert sweep(now=new_auto_confirm - SECOND).orders_confirmed == 0
    assert sweep(now=new_auto_confirm).orders_confirmed == 1
    assert order_of(oid).status == "completed"
    assert (money(oid)["escrow_fen"], money(oid)["released_fen"]) == (0, 10_000)
    assert balance(seller_code(shop_id, "balance")) == 10_000


def test_awaiting_return_buyer_never_ships_7_days_closes_the_request(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    oid = order.id
    cid = open_case(oid, actor=buyer, kind="return_refund", reason="damaged", amount_fen=10_000, now=t0 + H(1)).id
    perform_action(cid, "agree", actor=seller, now=t0 + H(2))
    due = t0 + H(2 + 7 * 24)
    assert (case_of(cid).due_at, case_of(cid).on_timeout) == (due, "expire")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "expire")

    assert (case.phase, case.state) == ("closed", "expired")
    assert money(oid)["refunded_fen"] == 0
    assert order_of(oid).is_frozen is False


# ---------------------------------------------------------------- negotiation: the seller is silent on goods

def test_return_in_transit_seller_silent_10_days_confirms_receipt_and_refunds(ctx, t0):
    order, buyer, seller = make_order(state="shipped", price_fen=10_000, now=t0)
    oid = order.id
    cid = open_case(oid, actor=buyer, kind="return_refund", reason="quality", amount_fen=10_000, now=t0 + H(1)).id
    perform_action(cid, "agree", actor=seller, now=t0 + H(2))
    ship(cid, "ship_return", buyer, t0 + H(3))
    due = t0 + H(3 + 10 * 24)
    case = case_of(cid)
    assert (case.state, case.due_at, case.on_timeout, case.waiting_for) == (
        "return_in_transit", due, "confirm_received", "seller")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "confirm_received")

    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen) == (
        "closed", "resolved", "return_refund", 10_000)
    assert triggers(cid)[-2:] == [("confirm_received", "system"), ("complete", "system")]
    returned = db.session.execute(select(Shipment).where(Shipment.order_id == oid,
                                                         Shipment.direction == "return")).scalar_one()
    assert (returned.status, returned.signed_at) == ("signed", due)
    assert (money(oid)["refunded_fen"], money(oid)["escrow_fen"]) == (10_000, 0)
    order = order_of(oid)
    assert (order.status, order.is_frozen) == ("closed", False)


def _exchange_to_replacement_due(t0, amount_fen):
    """(order id, seller, case id) of an exchange whose goods came back: the seller owes a replacement."""
    order, buyer, seller = make_order(state="shipped", price_fen=10_000, now=t0)
    cid = open_case(order.id, actor=buyer, kind="exchange", reason="wrong_item", amount_fen=amount_fen,
                    now=t0 + H(1)).id
    perform_action(cid, "agree", actor=seller, now=t0 + H(2))
    ship(cid, "ship_return", buyer, t0 + H(3))
    perform_action(cid, "confirm_received", actor=seller, now=t0 + H(4))
    return order.id, seller, cid


def test_replacement_due_seller_never_ships_refunds_instead(ctx, t0):
    oid, seller, cid = _exchange_to_replacement_due(t0, 10_000)
    due = t0 + H(4 + 3 * 24)
    case = case_of(cid)
    assert (case.state, case.due_at, case.on_timeout, case.waiting_for) == (
        "replacement_due", due, "fail_replacement", "seller")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "fail_replacement")

    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen) == (
        "closed", "resolved", "full_refund", 10_000)
    assert triggers(cid)[-2:] == [("fail_replacement", "system"), ("complete", "system")]
    assert (money(oid)["refunded_fen"], money(oid)["escrow_fen"]) == (10_000, 0)
    assert order_of(oid).is_frozen is False


def test_replacement_due_refund_instead_pays_back_the_returned_goods_when_no_amount_was_asked(ctx, t0):
    """An exchange request may carry amount 0 (the buyer wants goods, not money). The buyer
    has sent the goods back; if no replacement comes, 'refund instead' must refund them."""
    oid, seller, cid = _exchange_to_replacement_due(t0, 0)
    case = assert_fires(t0 + H(4 + 3 * 24), cid, "fail_replacement")
    assert money(oid)["refunded_fen"] == 10_000, (case.phase, case.state, case.remedy_type, case.remedy_amount_fen)


def test_replacement_in_transit_buyer_silent_10_days_confirms_the_replacement(ctx, t0):
    oid, seller, cid = _exchange_to_replacement_due(t0, 0)
    ship(cid, "ship_replacement", seller, t0 + H(5))
    due = t0 + H(5 + 10 * 24)
    case = case_of(cid)
    assert (case.state, case.due_at, case.on_timeout, case.waiting_for) == (
        "replacement_in_transit", due, "confirm_replacement", "buyer")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "confirm_replacement")

    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen) == (
        "closed", "resolved", "exchange", 0)
    assert triggers(cid)[-1] == ("confirm_replacement", "system")  # received in negotiation: no execution
    assert tasks(cid) == []
    replacement = db.session.execute(select(Shipment).where(Shipment.order_id == oid,
                                                            Shipment.direction == "replacement")).scalar_one()
    assert (replacement.status, replacement.signed_at) == ("signed", due)
    m = money(oid)
    assert (m["refunded_fen"], m["escrow_fen"]) == (0, 10_000)
    order = order_of(oid)
    assert (order.status, order.is_frozen) == ("shipped", False)


# ---------------------------------------------------------------- complaint and mediation

def test_complaint_seller_silent_3_days_hands_over_to_mediation(ctx, t0):
    order, buyer, seller = make_order(state="paid", now=t0)
    oid = order.id
    case = file_complaint(actor=buyer, order_id=oid, type="not_shipped", description="付款未发货", now=t0 + H(1))
    cid, due = case.id, t0 + H(1 + 3 * 24)
    assert (case.phase, case.state, case.due_at, case.on_timeout, case.waiting_for) == (
        "complaint", "awaiting_response", due, "hand_over", "seller")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "hand_over")

    assert (case.phase, case.state, case.waiting_for, case.on_timeout, case.due_at) == (
        "mediation", "queued", "mediator", "auto_assign", due + H(24))
    assert order_of(oid).is_frozen is True


def test_queued_case_is_auto_assigned_to_the_least_busy_active_mediator(ctx, t0):
    with transaction():  # the least busy of all, with the lowest id, but no longer active
        retired = User(username="retired-mediator", display_name="离职小二", role="mediator", is_active_flag=False)
        retired.set_password("secret-pass")
        db.session.add(retired)
    busy, idle = make_user("mediator"), make_user("mediator")  # busy has the lower id
    busy_id, idle_id = busy.id, idle.id
    first_order, buyer, seller = make_order(state="delivered", now=t0)
    first = to_mediation(first_order, buyer, seller, t0)
    perform_action(first, "assign", actor=busy, now=t0 + H(3))  # first's next deadline: t0 + 27 h

    order, buyer2, seller2 = make_order(state="delivered", now=t0)
    cid = to_mediation(order, buyer2, seller2, t0 + H(2))
    due = t0 + H(2 + 24)
    assert case_of(cid).due_at == due

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "auto_assign")

    assert (case.phase, case.state, case.mediator_id, case.waiting_for) == ("mediation", "assigned", idle_id,
                                                                            "mediator")
    assert case.due_at == due + H(24)
    assert events(cid)[-1].payload == {"mediator_id": idle_id}
    assert case_of(first).mediator_id == busy_id


def test_auto_assign_without_any_mediator_fails_and_is_retried_later(ctx, t0):
    order, buyer, seller = make_order(state="delivered", now=t0)
    cid = to_mediation(order, buyer, seller, t0)
    number, due = case_of(cid).number, t0 + H(24)
    result = sweep(now=due)
    assert (result.fired, result.failed) == (0, 1)
    assert result.errors == [(number, "auto_assign", "No mediator is available")]
    case = case_of(cid)
    assert (case.state, case.mediator_id, case.event_count) == ("queued", None, 2)
    assert case.due_at == due + H(1)  # the retry delay
    assert sweep(now=due + H(1) - SECOND).failed == 0

    mediator_id = make_user("mediator").id
    case = assert_fires(due + H(1), cid, "auto_assign")
    assert (case.state, case.mediator_id) == ("assigned", mediator_id)


@pytest.mark.parametrize("steps,state,hours", [
    ((), "assigned", 24),
    (("start_review",), "under_review", 3 * 24),
])
def test_mediator_silent_is_flagged_overdue_and_gets_a_new_deadline(ctx, t0, steps, state, hours):
    order, buyer, seller = make_order(state="delivered", now=t0)
    mediator = make_user("mediator")
    mediator_id = mediator.id
    cid = to_mediation(order, buyer, seller, t0)
    perform_action(cid, "assign", actor=mediator, now=t0 + H(1))
    for step in steps:
        perform_action(cid, step, actor=mediator, now=t0 + H(1))
    due = t0 + H(1 + hours)
    case = case_of(cid)
    assert (case.state, case.due_at, case.on_timeout, case.waiting_for) == (state, due, "flag_overdue", "mediator")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "flag_overdue")

    assert (case.phase, case.state, case.overdue_count, case.mediator_id) == ("mediation", state, 1, mediator_id)
    assert (case.due_at, case.waiting_for) == (due + H(hours), "mediator")
    flagged = events(cid)[-1]
    assert (flagged.from_state, flagged.to_state, flagged.payload) == (state, state, {"overdue_count": 1})

    case = assert_fires(due + H(hours), cid, "flag_overdue")
    assert (case.state, case.overdue_count) == (state, 2)


def _assigned(t0, at):
    order, buyer, seller = make_order(state="delivered", now=t0)
    mediator = make_user("mediator")
    cid = to_mediation(order, buyer, seller, t0)
    perform_action(cid, "assign", actor=mediator, now=at)
    return mediator, cid


def test_evidence_period_ends_into_review(ctx, t0):
    mediator, cid = _assigned(t0, t0 + H(1))
    perform_action(cid, "request_evidence", actor=mediator, data={"party": "seller", "note": "请补充发货前实拍"},
                   now=t0 + H(2))
    due = t0 + H(2 + 3 * 24)
    case = case_of(cid)
    assert (case.state, case.due_at, case.on_timeout, case.waiting_for) == (
        "evidence_period", due, "close_evidence", "seller")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "close_evidence")

    assert (case.phase, case.state, case.waiting_for, case.on_timeout) == (
        "mediation", "under_review", "mediator", "flag_overdue")
    assert case.due_at == due + H(3 * 24)


def test_an_extended_evidence_period_ends_three_days_later_and_extends_only_once(ctx, t0):
    mediator, cid = _assigned(t0, t0 + H(1))
    perform_action(cid, "request_evidence", actor=mediator, data={"party": "buyer"}, now=t0 + H(2))
    perform_action(cid, "extend_evidence", actor=mediator, data={"note": "买家申请延期"}, now=t0 + H(30))
    due = t0 + H(2 + 6 * 24)
    case = case_of(cid)
    assert (case.state, case.due_at, case.evidence_extended, case.waiting_for) == (
        "evidence_period", due, True, "buyer")
    with pytest.raises(ActionNotAvailable):
        perform_action(cid, "extend_evidence", actor=mediator, data={}, now=t0 + H(31))

    assert sweep(now=t0 + H(2 + 3 * 24)).fired == 0  # the original end has passed: nothing happens
    assert_quiet_until(due, cid)
    assert assert_fires(due, cid, "close_evidence").state == "under_review"


# ---------------------------------------------------------------- resolution

@pytest.mark.parametrize("accepted_first,silent", [(None, ["buyer", "seller"]), ("buyer", ["seller"])])
def test_proposal_silence_counts_as_acceptance_and_the_refund_is_executed(ctx, t0, accepted_first, silent):
    order, buyer, seller = make_order(state="delivered", price_fen=20_000, now=t0)
    oid = order.id
    cid = to_proposal(order, buyer, seller, make_user("mediator"), t0 + H(1))
    due = t0 + H(1 + 3 * 24)
    if accepted_first:
        perform_action(cid, "accept_proposal", actor=buyer, now=t0 + H(2))
    case = case_of(cid)
    assert (case.due_at, case.on_timeout, case.waiting_for) == (
        due, "accept_by_silence", "seller" if accepted_first else "buyer")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "accept_by_silence")

    accept = next(e for e in events(cid) if e.trigger == "accept_by_silence")
    assert (accept.from_phase, accept.from_state, accept.payload) == (
        "resolution", "proposed", {"accepted_by_silence": silent})
    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen) == (
        "closed", "resolved", "partial_refund", 8_000)
    assert case.buyer_accepted_at is not None and case.seller_accepted_at == due
    assert triggers(cid)[-1] == ("complete", "system")
    m = money(oid)
    assert (m["refunded_fen"], m["escrow_fen"]) == (8_000, 12_000)
    order = order_of(oid)
    assert (order.status, order.is_frozen) == ("delivered", False)


def test_dismissal_accepted_by_silence_closes_the_case_as_dismissed(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=20_000, now=t0)
    oid = order.id
    cid = to_proposal(order, buyer, seller, make_user("mediator"), t0, remedy="dismiss", amount_fen=0)
    case = assert_fires(t0 + H(3 * 24), cid, "accept_by_silence")
    assert (case.phase, case.state) == ("closed", "dismissed")
    assert money(oid)["refunded_fen"] == 0
    assert order_of(oid).is_frozen is False


def test_rejected_proposal_mediator_silent_is_flagged_overdue(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=20_000, now=t0)
    oid = order.id
    cid = to_proposal(order, buyer, seller, make_user("mediator"), t0)
    perform_action(cid, "reject_proposal", actor=seller, data={"reason": "不同意退款"}, now=t0 + H(1))
    due = t0 + H(1 + 3 * 24)
    case = case_of(cid)
    assert (case.state, case.due_at, case.on_timeout, case.waiting_for) == ("rejected", due, "flag_overdue", "mediator")

    assert_quiet_until(due, cid)
    case = assert_fires(due, cid, "flag_overdue")

    assert (case.phase, case.state, case.overdue_count, case.due_at) == ("resolution", "rejected", 1, due + H(72))
    assert money(oid)["refunded_fen"] == 0


# ---------------------------------------------------------------- execution: 先行垫付

def _refund_after_release(t0, amount_fen=5_000):
    """A refund agreed on a completed order: the escrow was released, so the seller owes it.
    The refund task waits for the seller for 48 h; the case waits with it."""
    order, buyer, seller = make_order(state="completed", price_fen=10_000, now=t0)
    ids = {"order": order.id, "buyer": buyer.id, "shop": seller.shop_id}
    ids["case"] = cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=amount_fen,
                                  now=t0).id
    perform_action(cid, "agree", actor=seller, now=t0)
    case = case_of(cid)
    assert (case.phase, case.state, case.waiting_for, case.on_timeout, case.due_at) == (
        "execution", "executing", "seller", "check", t0 + H(24))
    (task,) = tasks(cid)
    assert (task.kind, task.state, task.waiting_for, task.on_timeout, task.amount_fen) == (
        "refund", "awaiting_seller", "seller", "advance", amount_fen)
    assert task.due_at == task.updated_at + H(48)
    ids["task"] = task.id
    return ids, case, task


def _fund_guarantee(amount_fen):
    with transaction():
        transfer("platform:capital", "platform:guarantee", amount_fen, f"test:fund:{amount_fen}", kind="fund")


def test_seller_does_not_pay_in_48h_and_the_platform_advances_the_refund(ctx, t0):
    ids, case, task = _refund_after_release(t0)
    _fund_guarantee(100_000)
    due, version = task.due_at, task.version

    # a second before the seller's deadline: the case has its daily look (check), the task is not due
    early = sweep(now=due - SECOND)
    assert (early.fired, early.tasks_run, early.failed) == (1, 0, 0)
    assert triggers(ids["case"]) == [("open", "buyer"), ("agree", "seller"), ("check", "system")]
    assert case_of(ids["case"]).due_at == due - SECOND + H(24)
    assert (task_of(ids["task"]).state, task_of(ids["task"]).version) == ("awaiting_seller", version)
    assert balance("platform:guarantee") == 100_000

    result = sweep(now=due)
    assert (result.fired, result.tasks_run, result.failed, result.errors) == (0, 1, 0, [])
    refund = task_of(ids["task"])
    assert (refund.state, refund.paid_by, refund.due_at, refund.attempts) == ("done", "platform", None, 0)
    assert [(e.kind, e.amount_fen, e.idempotency_key, e.created_at) for e in entries_of(refund.id)] == [
        ("advance", 5_000, f"task:{refund.id}:refund:advance", due),     # guarantee → buyer
        ("receivable", 5_000, f"task:{refund.id}:receivable", due)]      # booked against the shop
    case = case_of(ids["case"])
    assert (case.phase, case.state) == ("closed", "resolved")
    assert triggers(ids["case"])[-1] == ("complete", "system")
    assert verify_chain(case) == (True, case.event_count)

    # the advance is recovered from the shop: its balance (the released 10 000) covers it at once
    recovery = next(t for t in tasks(ids["case"]) if t.kind == "recovery")
    assert (recovery.parent_id, recovery.state, recovery.amount_fen, recovery.recovered_fen) == (
        refund.id, "done", 5_000, 5_000)
    assert [(e.kind, e.amount_fen) for e in entries_of(recovery.id)] == [("recovery", 5_000),
                                                                         ("receivable_settled", 5_000)]
    assert balance("platform:guarantee") == 100_000
    assert balance(receivable_code(ids["shop"])) == 0
    assert balance(seller_code(ids["shop"], "balance")) == 10_000 - 5_000
    assert balance(buyer_funding_code(ids["buyer"])) == -10_000 + 5_000
    m = money(ids["order"])
    assert (m["refunded_fen"], m["refundable_fen"]) == (5_000, 5_000)
    order = order_of(ids["order"])
    assert (order.status, order.is_frozen) == ("completed", False)

    moved = [e.id for e in entries_of(ids["task"]) + entries_of(recovery.id)]
    assert db.session.execute(select(JournalEntry.id).where(JournalEntry.case_id == ids["case"])
                              .order_by(JournalEntry.id)).scalars().all() == moved
    again = sweep(now=due)
    assert (again.fired, again.tasks_run, again.failed) == (0, 0, 0)
    assert db.session.execute(select(JournalEntry.id).where(JournalEntry.case_id == ids["case"])
                              .order_by(JournalEntry.id)).scalars().all() == moved


def test_advance_without_a_funded_guarantee_fails_changes_nothing_and_is_retried(ctx, t0):
    ids, case, task = _refund_after_release(t0)
    due = task.due_at
    before = (task.state, task.version, task.due_at, task.attempts, task.paid_by, task.waiting_for)
    result = sweep(now=due)
    assert (result.tasks_run, result.failed) == (0, 1)
    assert result.errors == [(f"task {ids['task']}", "run", "Insufficient funds")]
    task = task_of(ids["task"])
    # nothing moved; the error is shown on the task and it is tried again after the retry delay
    assert (task.state, task.attempts, task.paid_by, task.waiting_for) == (before[0], before[3], before[4], before[5])
    assert (task.last_error, task.due_at) == ("Insufficient funds", due + H(1))
    assert [t.kind for t in tasks(ids["case"])] == ["refund"]  # no recovery without an advance
    assert entries_of(ids["task"]) == []
    assert balance(buyer_funding_code(ids["buyer"])) == -10_000
    assert balance(receivable_code(ids["shop"])) == 0
    case = case_of(ids["case"])
    assert (case.phase, case.state, case.waiting_for) == ("execution", "executing", "seller")

    _fund_guarantee(5_000)
    result = sweep(now=due + H(1))
    assert (result.tasks_run, result.failed) == (1, 0)
    case = case_of(ids["case"])
    assert (case.phase, case.state) == ("closed", "resolved")
    assert task_of(ids["task"]).paid_by == "platform"
    # paid out of the guarantee, then recovered from the shop's balance
    assert (balance("platform:guarantee"), balance(receivable_code(ids["shop"]))) == (5_000, 0)
    assert balance(buyer_funding_code(ids["buyer"])) == -5_000


# ---------------------------------------------------------------- orders

def test_shipped_order_is_auto_confirmed_10_days_after_shipping(ctx, t0):
    order, buyer, seller = make_order(state="shipped", price_fen=7_700, now=t0)
    oid, shop_id, due = order.id, seller.shop_id, t0 + H(10 * 24)
    assert order.auto_confirm_at == due
    assert sweep(now=due - SECOND).orders_confirmed == 0
    assert order_of(oid).status == "shipped"
    result = sweep(now=due)
    assert (result.orders_confirmed, result.fired) == (1, 0)
    order = order_of(oid)
    assert (order.status, order.completed_at, order.auto_confirm_at) == ("completed", due, None)
    m = money(oid)
    assert (m["escrow_fen"], m["released_fen"]) == (0, 7_700)
    assert balance(seller_code(shop_id, "balance")) == 7_700
    assert sweep(now=due).orders_confirmed == 0


def test_a_frozen_order_is_not_auto_confirmed_and_resumes_after_the_case(ctx, t0):
    order, buyer, seller = make_order(state="shipped", price_fen=7_700, now=t0)
    oid, buyer_id = order.id, buyer.id
    cid = open_case(oid, actor=buyer, kind="refund_only", reason="not_received", amount_fen=7_700,
                    now=t0 + H(200)).id  # its own deadline: t0 + 320 h
    result = sweep(now=t0 + H(10 * 24))
    assert (result.orders_confirmed, result.fired) == (0, 0)
    assert (order_of(oid).status, money(oid)["escrow_fen"]) == ("shipped", 7_700)

    perform_action(cid, "withdraw", actor=db.session.get(User, buyer_id), now=t0 + H(250))
    order = order_of(oid)
    assert (order.is_frozen, order.auto_confirm_at) == (False, t0 + H(240 + 50))
    assert sweep(now=t0 + H(290) - SECOND).orders_confirmed == 0
    assert sweep(now=t0 + H(290)).orders_confirmed == 1
    assert order_of(oid).status == "completed"


# ---------------------------------------------------------------- the sweeper itself

def test_sweeping_twice_fires_nothing_the_second_time(ctx, t0):
    cases = []
    for _ in range(3):
        order, buyer, seller = make_order(state="shipped", price_fen=5_000, now=t0)
        cases.append(open_case(order.id, actor=buyer, kind="return_refund", reason="quality", amount_fen=5_000,
                               now=t0).id)
    plain_id = make_order(state="shipped", price_fen=5_000, now=t0 - H(240))[0].id
    due = t0 + H(5 * 24)
    first = sweep(now=due, batch_size=1)  # several batches
    assert (first.fired, first.failed, first.orders_confirmed) == (3, 0, 1)
    snapshot = [(c.id, c.state, c.event_count, c.due_at) for c in map(case_of, cases)]
    assert all(state == "awaiting_return" for _, state, _, _ in snapshot)
    second = sweep(now=due, batch_size=1)
    assert (second.fired, second.failed, second.orders_confirmed) == (0, 0, 0)
    assert [(c.id, c.state, c.event_count, c.due_at) for c in map(case_of, cases)] == snapshot
    assert order_of(plain_id).status == "completed"
