"""Execution tasks on the database (app/execution/services.py), with real orders and cases
driven through the services: each remedy's task, the platform advance and its recovery,
compensation and its retries, the mediated exchange, penalties — and every ledger movement
exactly once, whether a step runs twice, the sweeper runs twice, or a step crashes midway.

Ledger movements of a task carry its id and an idempotency key `task:<id>:<step>`; after
every test the ledger is checked whole (each entry balances, no guarded account is negative,
no order has more refunded than paid)."""
import inspect
import itertools
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.cases.audit import verify_chain
from app.cases.models import Case, CaseEvent
from app.cases.services import after_task, file_complaint, open_case, perform_action
from app.catalog.models import Product, Shop
from app.db_tx import lock, transaction
from app.deadlines.services import sweep
from app.errors import ActionNotAvailable, Invalid
from app.execution import services as execution
from app.execution.models import ExecutionTask, Penalty
from app.execution.services import fire_task, run_task, tasks_of
from app.extensions import db
from app.orders.models import Order
from app.orders.queries import money_for
from app.orders.services import perform_order_action
from app.payments.models import NON_NEGATIVE_KINDS, Account, JournalEntry, JournalLine
from app.payments.services import balance, buyer_funding_code, escrow_code, receivable_code, seller_code, transfer
from app.rules import get_rules
from app.shipping.models import Shipment
from app.timeutil import utcnow

from workflows.compensation import late_shipment_compensation

from ..factories import make_order, make_product, make_user
from ..readers import case_of, money, order_of, task_of

SECOND = timedelta(seconds=1)
_keys = itertools.count(1)


def H(n):
    return timedelta(hours=n)


@pytest.fixture
def t0():
    return utcnow().replace(microsecond=0)


@pytest.fixture(autouse=True)
def _ledger_is_sound(ctx):
    """After every test of this module: the whole ledger still holds its invariants."""
    yield
    assert_ledger_sound()


@pytest.fixture
def queued(monkeypatch):
    """The jobs the execution services queue, recorded instead of run: the test delivers them."""
    jobs = []
    monkeypatch.setattr(execution, "enqueue", lambda name, *args: jobs.append((name, *args)))
    return jobs


# ---------------------------------------------------------------- reading what a user sees

def tasks(case_id, kind=None):
    db.session.expire_all()
    return [t for t in tasks_of(case_id) if kind is None or t.kind == kind]


def the_task(case_id, kind):
    (task,) = tasks(case_id, kind)
    return task


def triggers(case_id):
    return [e.trigger for e in db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                                  .order_by(CaseEvent.seq)).scalars()]


def moved(task_id):
    """[(step, kind, amount)] of the task's ledger entries; every one carries the task id and a key
    derived from it, and there is no other entry with that key prefix."""
    by_task = db.session.execute(select(JournalEntry).where(JournalEntry.task_id == task_id)
                                 .order_by(JournalEntry.id)).scalars().all()
    prefix = f"task:{task_id}:"
    by_key = db.session.execute(select(func.count()).select_from(JournalEntry)
                                .where(JournalEntry.idempotency_key.like(prefix + "%"))).scalar_one()
    assert by_key == len(by_task)
    assert all(e.idempotency_key.startswith(prefix) for e in by_task)
    return [(e.idempotency_key[len(prefix):], e.kind, e.amount_fen) for e in by_task]


def assert_ledger_sound():
    db.session.rollback()
    unbalanced = db.session.execute(select(JournalLine.entry_id).group_by(JournalLine.entry_id)
                                    .having(func.sum(JournalLine.amount_fen) != 0)).all()
    assert unbalanced == []
    for entry in db.session.execute(select(JournalEntry)).scalars():
        assert entry.amount_fen == sum(line.amount_fen for line in entry.lines if line.amount_fen > 0)
    negative = db.session.execute(
        select(Account.code).join(JournalLine, JournalLine.account_id == Account.id)
        .where(Account.kind.in_(NON_NEGATIVE_KINDS)).group_by(Account.code)
        .having(func.sum(JournalLine.amount_fen) < 0)).all()
    assert negative == []
    order_ids = db.session.execute(select(Order.id)).scalars().all()
    for oid, m in money_for(order_ids).items():
        assert 0 <= m["refunded_fen"] <= m["paid_fen"], (oid, m)


# ---------------------------------------------------------------- money around the story

def fund_guarantee(amount_fen):
    with transaction():
        transfer("platform:capital", "platform:guarantee", amount_fen, f"test:guarantee:{next(_keys)}", kind="fund")


def pay_out(shop_id, amount_fen):
    """The shop withdraws from its balance to its bank."""
    with transaction():
        transfer(seller_code(shop_id, "balance"), seller_code(shop_id, "funding"), amount_fen,
                 f"test:payout:{next(_keys)}", kind="payout")


def top_up_deposit(shop_id, amount_fen):
    with transaction():
        transfer(seller_code(shop_id, "funding"), seller_code(shop_id, "deposit"), amount_fen,
                 f"test:deposit:{next(_keys)}", kind="deposit")


def shop_money(shop_id):
    return {part: balance(seller_code(shop_id, part)) for part in ("balance", "deposit")}


# ---------------------------------------------------------------- stories

def agreed_refund(t0, *, state="delivered", price_fen=10_000, amount_fen=10_000):
    """A refund_only request the seller agrees to at t0."""
    order, buyer, seller = make_order(state=state, price_fen=price_fen, now=t0)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=amount_fen, now=t0).id
    perform_action(cid, "agree", actor=seller, now=t0)
    return {"order": order.id, "buyer": buyer.id, "seller": seller.id, "shop": seller.shop_id, "case": cid}


def mediated(order, buyer, seller, at, *, remedy, amount_fen=0, penalties=None, type="not_as_described",
             ruled=False, listing_id=None):
    """A complaint (on the order, or on a listing) the mediator decides: proposed and accepted by
    both, or rejected by the seller and ruled."""
    mediator = make_user("mediator")
    cid = file_complaint(actor=buyer, order_id=order.id if order else None, listing_id=listing_id, type=type,
                         description="投诉", now=at).id
    perform_action(cid, "respond", actor=seller, data={"statement": "已发货"}, now=at)
    perform_action(cid, "assign", actor=mediator, now=at)
    perform_action(cid, "start_review", actor=mediator, now=at)
    decision = {"remedy": remedy, "amount_fen": amount_fen, "findings": "查明", "rule": "规则"}
    if penalties is not None:
        decision["penalties"] = penalties
    perform_action(cid, "propose", actor=mediator, data=decision, now=at)
    if ruled:
        perform_action(cid, "reject_proposal", actor=seller, data={"reason": "不同意"}, now=at)
        perform_action(cid, "rule", actor=mediator, data=decision, now=at)
    else:
        perform_action(cid, "accept_proposal", actor=buyer, now=at)
        perform_action(cid, "accept_proposal", actor=seller, now=at)
    return cid


def seller_of(ids):
    return db.session.get(User, ids["seller"])


# ---------------------------------------------------------------- refund from escrow

@pytest.mark.parametrize("amount_fen", [10_000, 4_000])
def test_refund_from_escrow_is_one_entry_and_resolves_the_case(ctx, t0, amount_fen):
    ids = agreed_refund(t0, amount_fen=amount_fen)
    task = the_task(ids["case"], "refund")
    assert (task.state, task.amount_fen, task.paid_by, task.attempts, task.due_at, task.last_error) == (
        "done", amount_fen, "escrow", 0, None, None)
    assert moved(task.id) == [("refund:escrow", "refund", amount_fen)]
    entry = db.session.execute(select(JournalEntry).where(JournalEntry.task_id == task.id)).scalar_one()
    assert {line.account.code: line.amount_fen for line in entry.lines} == {
        escrow_code(ids["order"]): -amount_fen, buyer_funding_code(ids["buyer"]): amount_fen}
    assert (entry.case_id, entry.order_id, entry.created_at) == (ids["case"], ids["order"], t0)

    case = case_of(ids["case"])
    assert (case.phase, case.state, case.closed_at, case.due_at, case.waiting_for) == (
        "closed", "resolved", t0, None, None)
    assert triggers(ids["case"]) == ["open", "agree", "complete"]
    assert verify_chain(case) == (True, 3)
    m = money(ids["order"])
    assert (m["refunded_fen"], m["escrow_fen"]) == (amount_fen, 10_000 - amount_fen)
    order = order_of(ids["order"])
    fully = amount_fen == 10_000
    assert (order.status, order.is_frozen) == ("closed" if fully else "delivered", False)


def test_the_inline_step_happens_at_the_time_of_the_action(ctx, t0):
    """Jobs carry the action's time: an action stamped later (a sweep run with --at, a replay)
    executes at that time, so the timeline stays in order and deadlines count from it."""
    at = t0 + H(30)
    order, buyer, seller = make_order(state="completed", price_fen=10_000, now=t0)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=3_000, now=at).id
    perform_action(cid, "agree", actor=seller, now=at)
    task = the_task(cid, "refund")
    assert (task.state, task.updated_at, task.due_at) == ("awaiting_seller", at, at + H(48))

    fresh = agreed_refund(at)
    done = the_task(fresh["case"], "refund")
    assert done.updated_at == at
    assert case_of(fresh["case"]).closed_at == at
    assert db.session.execute(select(CaseEvent.created_at).where(CaseEvent.case_id == fresh["case"])
                              .order_by(CaseEvent.seq)).scalars().all() == [at, at, at]


# ---------------------------------------------------------------- refund after release: the seller pays

def test_refund_after_release_waits_for_the_seller_who_pays_from_the_balance(ctx, t0):
    ids = agreed_refund(t0, state="completed")
    buyer, seller = db.session.get(User, ids["buyer"]), seller_of(ids)
    task = the_task(ids["case"], "refund")
    assert (task.state, task.waiting_for, task.on_timeout, task.due_at) == (
        "awaiting_seller", "seller", "advance", t0 + H(48))
    assert moved(task.id) == []
    case = case_of(ids["case"])
    assert (case.phase, case.state, case.waiting_for, case.on_timeout, case.due_at) == (
        "execution", "executing", "seller", "check", t0 + H(24))
    for who, expected in ((seller, ["pay_refund"]), (buyer, [])):
        with pytest.raises(ActionNotAvailable) as err:
            perform_action(ids["case"], "no_such_action", actor=who, now=t0 + H(1))
        assert err.value.details == {"available_actions": expected}

    perform_action(ids["case"], "pay_refund", actor=seller, now=t0 + H(5))
    task = task_of(task.id)
    assert (task.state, task.paid_by, task.due_at) == ("done", "seller", None)
    assert moved(task.id) == [("refund:seller", "seller_refund", 10_000)]
    assert shop_money(ids["shop"])["balance"] == 0
    assert balance(buyer_funding_code(ids["buyer"])) == 0
    case = case_of(ids["case"])
    assert (case.phase, case.state, case.closed_at) == ("closed", "resolved", t0 + H(5))
    assert triggers(ids["case"]) == ["open", "agree", "pay_refund", "complete"]
    # fully refunded: the completed order closes
    assert order_of(ids["order"]).status == "closed"
    assert (money(ids["order"])["refunded_fen"], money(ids["order"])["refundable_fen"]) == (10_000, 0)

    with pytest.raises(ActionNotAvailable):  # paid once; the action is gone
        perform_action(ids["case"], "pay_refund", actor=seller_of(ids), now=t0 + H(6))
    assert moved(task.id) == [("refund:seller", "seller_refund", 10_000)]


def test_a_seller_paying_after_the_advance_is_refused(ctx, t0):
    ids = agreed_refund(t0, state="completed", amount_fen=2_000)
    fund_guarantee(10_000)
    task = the_task(ids["case"], "refund")
    tid, due = task.id, task.due_at
    assert sweep(now=due).tasks_run == 1
    with pytest.raises(ActionNotAvailable):
        perform_action(ids["case"], "pay_refund", actor=seller_of(ids), now=due + H(1))
    assert moved(tid) == [("refund:advance", "advance", 2_000), ("receivable", "receivable", 2_000)]
    assert money(ids["order"])["refunded_fen"] == 2_000


# ---------------------------------------------------------------- 先行垫付 and recovery

def test_seller_silent_48h_platform_advances_and_books_a_receivable(ctx, t0):
    ids = agreed_refund(t0, state="completed", amount_fen=6_000)
    pay_out(ids["shop"], 10_000)  # the shop has nothing left to take back from
    fund_guarantee(50_000)
    task = the_task(ids["case"], "refund")
    tid, due = task.id, task.due_at

    early = sweep(now=due - SECOND)
    assert (early.tasks_run, early.failed) == (0, 0)
    assert task_of(tid).state == "awaiting_seller"
    assert balance("platform:guarantee") == 50_000

    result = sweep(now=due)
    assert (result.tasks_run, result.failed, result.errors) == (1, 0, [])
    task = task_of(tid)
    assert (task.state, task.paid_by, task.due_at) == ("done", "platform", None)
    assert moved(tid) == [("refund:advance", "advance", 6_000), ("receivable", "receivable", 6_000)]
    assert balance("platform:guarantee") == 44_000
    assert balance(buyer_funding_code(ids["buyer"])) == -10_000 + 6_000
    assert balance(receivable_code(ids["shop"])) == 6_000  # owed by the shop, visible
    case = case_of(ids["case"])
    assert (case.phase, case.state, case.closed_at) == ("closed", "resolved", due)
    assert triggers(ids["case"])[-1] == "complete"

    # the recovery task started at once and found nothing to take
    recovery = the_task(ids["case"], "recovery")
    assert (recovery.parent_id, recovery.amount_fen, recovery.recovered_fen, recovery.owed_fen) == (
        tid, 6_000, 0, 6_000)
    assert (recovery.state, recovery.waiting_for, recovery.on_timeout, recovery.due_at) == (
        "in_progress", "system", "keep", due + H(24))
    assert moved(recovery.id) == []

    again = sweep(now=due)
    assert (again.tasks_run, again.failed) == (0, 0)
    assert moved(tid) == [("refund:advance", "advance", 6_000), ("receivable", "receivable", 6_000)]
    assert len(tasks(ids["case"], "recovery")) == 1


def test_recovery_takes_the_balance_then_the_deposit_and_keeps_what_is_still_owed(ctx, t0):
    ids = agreed_refund(t0, state="completed", amount_fen=10_000)
    pay_out(ids["shop"], 7_000)       # balance 3 000 left
    top_up_deposit(ids["shop"], 4_000)
    fund_guarantee(10_000)
    due = the_task(ids["case"], "refund").due_at
    sweep(now=due)

    recovery = the_task(ids["case"], "recovery")
    rid = recovery.id
    assert (recovery.state, recovery.recovered_fen, recovery.owed_fen) == ("in_progress", 7_000, 3_000)
    assert (recovery.on_timeout, recovery.due_at) == ("keep", due + H(24))
    assert moved(rid) == [("recover:0:balance", "recovery", 3_000), ("recover:0:deposit", "recovery", 4_000),
                                  ("recover:0:settle", "receivable_settled", 7_000)]
    assert shop_money(ids["shop"]) == {"balance": 0, "deposit": 0}
    assert balance(receivable_code(ids["shop"])) == 3_000
    assert balance("platform:guarantee") == 7_000

    assert sweep(now=due + H(24) - SECOND).tasks_run == 0
    nothing = sweep(now=due + H(24))  # still nothing to take: the task keeps waiting, a day later
    assert nothing.tasks_run == 1
    recovery = task_of(rid)
    assert (recovery.state, recovery.recovered_fen, recovery.due_at) == ("in_progress", 7_000, due + H(48))

    # the shop sells something: its balance pays the rest at the next look
    other_id = make_order(seller=seller_of(ids), state="completed", price_fen=5_000, now=due + H(30))[0].id
    assert shop_money(ids["shop"])["balance"] == 5_000
    assert sweep(now=due + H(48)).tasks_run == 1
    recovery = task_of(rid)
    assert (recovery.state, recovery.recovered_fen, recovery.owed_fen, recovery.due_at) == ("done", 10_000, 0, None)
    assert moved(rid)[3:] == [("recover:7000:balance", "recovery", 3_000),
                                      ("recover:7000:settle", "receivable_settled", 3_000)]
    assert shop_money(ids["shop"]) == {"balance": 2_000, "deposit": 0}
    assert balance(receivable_code(ids["shop"])) == 0
    assert balance("platform:guarantee") == 10_000
    assert money(other_id)["released_fen"] == 5_000
    assert sweep(now=due + H(24 * 30)).tasks_run == 0


def test_end_to_end_buyer_wins_seller_ignores_platform_pays_and_recovers_later(ctx, t0):
    """The order completed and its money went to the seller; the buyer wins a ruling; the seller
    ignores the deadline; the platform pays the buyer; weeks later the shop earns money and the
    platform takes the advance back."""
    order, buyer, seller = make_order(state="completed", price_fen=12_000, now=t0)
    oid, shop_id, buyer_id, seller_id = order.id, seller.shop_id, buyer.id, seller.id
    pay_out(shop_id, 12_000)
    fund_guarantee(100_000)
    cid = mediated(order, buyer, seller, t0 + H(2), remedy="full_refund", ruled=True)
    case = case_of(cid)
    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen, case.remedy_final) == (
        "execution", "executing", "full_refund", 12_000, True)
    assert case.waiting_for == "seller"
    refund = the_task(cid, "refund")
    assert (refund.state, refund.due_at, refund.amount_fen) == ("awaiting_seller", t0 + H(2 + 48), 12_000)

    # the seller lets the deadline pass; the sweeper's daily look at the case comes first
    assert sweep(now=t0 + H(2 + 24)).fired == 1
    assert triggers(cid)[-1] == "check"
    result = sweep(now=t0 + H(2 + 48))
    assert (result.tasks_run, result.failed) == (1, 0)
    case = case_of(cid)
    assert (case.phase, case.state) == ("closed", "resolved")
    assert balance(buyer_funding_code(buyer_id)) == 0          # paid 12 000, got 12 000 back
    assert order_of(oid).status == "closed"                    # fully refunded
    assert balance(receivable_code(shop_id)) == 12_000
    recovery = the_task(cid, "recovery")
    rid = recovery.id
    assert (recovery.state, recovery.recovered_fen) == ("in_progress", 0)

    # three weeks of daily looks find nothing
    for day in range(1, 22):
        sweep(now=t0 + H(2 + 48 + 24 * day))
    recovery = task_of(rid)
    assert (recovery.state, recovery.recovered_fen, recovery.attempts) == ("in_progress", 0, 0)
    assert moved(rid) == []

    # the shop completes another sale: the next look takes the advance out of that money
    make_order(seller=db.session.get(User, seller_id), state="completed", price_fen=20_000,
               now=t0 + H(2 + 48 + 24 * 21 + 1))
    sweep(now=t0 + H(2 + 48 + 24 * 22))
    recovery = task_of(rid)
    assert (recovery.state, recovery.recovered_fen) == ("done", 12_000)
    assert moved(rid) == [("recover:0:balance", "recovery", 12_000),
                                  ("recover:0:settle", "receivable_settled", 12_000)]
    assert balance(receivable_code(shop_id)) == 0
    assert balance("platform:guarantee") == 100_000
    assert shop_money(shop_id)["balance"] == 8_000
    assert verify_chain(case_of(cid))[0] is True


def test_a_buyer_flagged_for_malicious_refunds_gets_no_advance(ctx, t0):
    ids = agreed_refund(t0, state="completed", amount_fen=5_000)
    fund_guarantee(50_000)
    with transaction():
        db.session.get(User, ids["buyer"]).is_malicious_refund = True
    task = the_task(ids["case"], "refund")
    tid, due = task.id, task.due_at

    result = sweep(now=due)
    assert (result.tasks_run, result.failed) == (1, 0)
    task = task_of(tid)
    assert (task.state, task.attempts, task.paid_by) == ("failed", 1, None)
    assert task.last_error == "the buyer is not eligible for a platform advance"
    assert (task.on_timeout, task.due_at) == ("retry", due + H(1))
    assert moved(tid) == []
    assert tasks(ids["case"], "recovery") == []
    assert balance("platform:guarantee") == 50_000
    assert balance(receivable_code(ids["shop"])) == 0
    case = case_of(ids["case"])
    assert (case.phase, case.state) == ("execution", "executing")  # not resolved: the buyer is not paid

    # the retry asks the seller again; the seller may still pay
    sweep(now=due + H(1))
    task = task_of(tid)
    assert (task.state, task.waiting_for, task.due_at, task.attempts) == (
        "awaiting_seller", "seller", due + H(1 + 48), 1)
    perform_action(ids["case"], "pay_refund", actor=seller_of(ids), now=due + H(2))
    assert task_of(tid).paid_by == "seller"
    assert case_of(ids["case"]).state == "resolved"
    assert balance("platform:guarantee") == 50_000


# ---------------------------------------------------------------- compensation

@pytest.mark.parametrize("total_fen,expected", [
    (10_000, 500),      # 5 %
    (30_000, 1_500),    # 5 %
    (4_000, 500),       # 5 % would be 200: at least ¥5
    (100_000, 3_000),   # 5 % would be 5 000: at most ¥30
])
def test_late_shipment_compensation_is_5_percent_within_5_and_30_yuan(ctx, t0, total_fen, expected):
    assert late_shipment_compensation(total_fen, get_rules()) == expected
    order, buyer, seller = make_order(state="paid", price_fen=total_fen, now=t0)
    top_up_deposit(seller.shop_id, 50_000)
    cid = mediated(order, buyer, seller, t0 + H(60), remedy="compensation", amount_fen=0, type="not_shipped")
    case = case_of(cid)
    assert (case.phase, case.state, case.remedy_type, case.remedy_amount_fen) == (
        "closed", "resolved", "compensation", expected)
    task = the_task(cid, "compensation")
    assert (task.state, task.amount_fen, task.paid_by) == ("done", expected, "seller")
    assert moved(task.id) == [("compensation:deposit", "late_compensation", expected)]  # the balance is empty
    assert balance(buyer_funding_code(buyer.id)) == -total_fen + expected
    # compensation is not a refund: the order keeps its money in escrow and can still be refunded
    m = money(order.id)
    assert (m["refunded_fen"], m["escrow_fen"], m["refundable_fen"]) == (0, total_fen, total_fen)
    assert (order_of(order.id).status, order_of(order.id).is_frozen) == ("paid", False)


def test_late_shipment_reason_from_negotiation_also_gets_the_computed_amount(ctx, t0):
    order, buyer, seller = make_order(state="paid", price_fen=30_000, now=t0)
    perform_order_action(order.id, "ship", actor=seller, data={"carrier": "sf", "tracking_no": "SF1"}, now=t0 + H(50))
    top_up_deposit(seller.shop_id, 50_000)
    cid = open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=5_000, now=t0).id
    assert case_of(cid).amount_fen == 1_500  # the rules' amount, not the buyer's
    perform_action(cid, "refuse", actor=seller, data={"reason": "按时发货"}, now=t0)
    perform_action(cid, "escalate", actor=buyer, data={"type": "broken_promise"}, now=t0)
    mediator = make_user("mediator")
    perform_action(cid, "respond", actor=seller, data={"statement": "物流原因"}, now=t0)
    perform_action(cid, "assign", actor=mediator, now=t0)
    perform_action(cid, "start_review", actor=mediator, now=t0)
    perform_action(cid, "propose", actor=mediator, now=t0, data={
        "remedy": "compensation", "amount_fen": 0, "findings": "延迟发货", "rule": "延迟发货赔付"})
    assert case_of(cid).remedy_amount_fen == 1_500


def test_compensation_without_an_amount_is_refused_when_shipping_was_not_late(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    mediator = make_user("mediator")
    cid = file_complaint(actor=buyer, order_id=order.id, type="quality", now=t0).id
    perform_action(cid, "respond", actor=seller, data={"statement": "质量没问题"}, now=t0)
    perform_action(cid, "assign", actor=mediator, now=t0)
    perform_action(cid, "start_review", actor=mediator, now=t0)
    with pytest.raises(Invalid) as err:
        perform_action(cid, "propose", actor=mediator, now=t0, data={
            "remedy": "compensation", "amount_fen": 0, "findings": "质量", "rule": "质量问题"})
    assert "amount_fen" in err.value.details
    assert case_of(cid).state == "under_review"


def shipped_late(t0, price_fen):
    """An order paid 60 hours before t0 and shipped 10 hours before t0: 2 hours past its promised time."""
    order, buyer, seller = make_order(state="paid", price_fen=price_fen, now=t0 - H(60))
    perform_order_action(order.id, "ship", actor=seller, data={"carrier": "sf", "tracking_no": "SF1"}, now=t0 - H(10))
    return order, buyer, seller


def test_compensation_the_shop_cannot_pay_fails_is_retried_and_finally_stays_failed(ctx, t0):
    order, buyer, seller = shipped_late(t0, 16_000)  # 5 %: ¥8 from the shop, on top of the price
    shop_id = seller.shop_id
    cid = open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=800, now=t0).id
    perform_action(cid, "agree", actor=seller, now=t0)  # the shop's balance and deposit are empty

    task = the_task(cid, "compensation")
    tid = task.id
    assert (task.state, task.attempts, task.on_timeout, task.due_at, task.waiting_for) == (
        "failed", 1, "retry", t0 + H(1), "system")
    assert task.last_error == "The shop cannot pay the compensation yet"
    case = case_of(cid)
    assert (case.phase, case.state, case.waiting_for) == ("execution", "executing", "system")

    for attempt in range(2, get_rules()["max_task_attempts"] + 1):
        due = task.due_at
        assert sweep(now=due - SECOND).tasks_run == 0
        assert sweep(now=due).tasks_run == 1
        task = task_of(tid)
        assert (task.state, task.attempts) == ("failed", attempt)
    assert attempt == 5
    # attempts used up: no deadline, nothing scheduled, the failure stays visible
    assert (task.due_at, task.on_timeout, task.last_error) == (None, None, "The shop cannot pay the compensation yet")
    later = sweep(now=t0 + H(24 * 30))
    assert later.tasks_run == 0
    assert task_of(tid).attempts == 5
    assert moved(tid) == []
    assert case_of(cid).phase == "execution"

    # an admin may retry once the shop has money
    top_up_deposit(shop_id, 1_000)
    admin, now = make_user("admin"), t0 + H(24 * 31)
    with transaction():
        locked_case, locked = lock(Case, cid), lock(ExecutionTask, tid)
        fire_task(locked, "retry", role="admin", actor=admin, now=now, rules=get_rules())
        after_task(locked_case, now, get_rules())
    task = task_of(tid)
    assert (task.state, task.paid_by) == ("done", "seller")
    assert moved(tid) == [("compensation:deposit", "late_compensation", 800)]
    assert (case_of(cid).phase, case_of(cid).state) == ("closed", "resolved")


def test_a_compensation_retry_after_the_shop_has_money_pays(ctx, t0):
    order, buyer, seller = shipped_late(t0, 16_000)
    cid = open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=800, now=t0).id
    perform_action(cid, "agree", actor=seller, now=t0)
    task = the_task(cid, "compensation")
    tid, shop_id = task.id, seller.shop_id
    assert task.state == "failed"
    make_order(seller=seller, state="completed", price_fen=500, now=t0)   # balance 500
    top_up_deposit(shop_id, 1_000)
    assert sweep(now=t0 + H(1)).tasks_run == 1
    task = task_of(tid)
    assert (task.state, task.attempts) == ("done", 1)
    assert moved(tid) == [("compensation:balance", "late_compensation", 500),
                          ("compensation:deposit", "late_compensation", 300)]
    assert shop_money(shop_id) == {"balance": 0, "deposit": 700}
    assert case_of(cid).state == "resolved"


# ---------------------------------------------------------------- mediated exchange

def _mediated_exchange(t0):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    cid = mediated(order, buyer, seller, t0, remedy="exchange", type="quality")
    return order.id, buyer, seller, cid


def test_mediated_exchange_seller_ships_and_buyer_confirms(ctx, t0):
    oid, buyer, seller, cid = _mediated_exchange(t0)
    task = the_task(cid, "exchange")
    assert (task.state, task.waiting_for, task.on_timeout, task.due_at) == (
        "awaiting_shipment", "seller", "fail", t0 + H(72))
    case = case_of(cid)
    assert (case.phase, case.state, case.waiting_for) == ("execution", "executing", "seller")
    with pytest.raises(ActionNotAvailable):
        perform_action(cid, "confirm_replacement", actor=buyer, now=t0 + H(1))
    with pytest.raises(Invalid):
        perform_action(cid, "ship_replacement", actor=seller, data={"carrier": "nobody", "tracking_no": "X"},
                       now=t0 + H(1))

    perform_action(cid, "ship_replacement", actor=seller, data={"carrier": "sf", "tracking_no": "SF777"},
                   now=t0 + H(2))
    task = task_of(task.id)
    assert (task.state, task.waiting_for, task.on_timeout, task.due_at) == (
        "in_transit", "buyer", "confirm_replacement", t0 + H(2 + 240))
    assert case_of(cid).waiting_for == "buyer"
    shipment = db.session.execute(select(Shipment).where(Shipment.order_id == oid,
                                                         Shipment.direction == "replacement")).scalar_one()
    assert (shipment.carrier, shipment.tracking_no, shipment.status) == ("sf", "SF777", "in_transit")

    perform_action(cid, "confirm_replacement", actor=buyer, now=t0 + H(30))
    assert task_of(task.id).state == "done"
    case = case_of(cid)
    assert (case.phase, case.state) == ("closed", "resolved")
    assert triggers(cid)[-3:] == ["ship_replacement", "confirm_replacement", "complete"]
    shipment = db.session.execute(select(Shipment).where(Shipment.order_id == oid,
                                                         Shipment.direction == "replacement")).scalar_one()
    assert (shipment.status, shipment.signed_at) == ("signed", t0 + H(30))
    assert moved(task.id) == []
    assert money(oid)["escrow_fen"] == 10_000
    assert (order_of(oid).status, order_of(oid).is_frozen) == ("delivered", False)


def test_mediated_exchange_in_transit_deadline_confirms_the_replacement(ctx, t0):
    oid, buyer, seller, cid = _mediated_exchange(t0)
    perform_action(cid, "ship_replacement", actor=seller, data={"carrier": "jd", "tracking_no": "JD1"}, now=t0)
    due = the_task(cid, "exchange").due_at
    assert due == t0 + H(240)
    assert sweep(now=due - SECOND).tasks_run == 0
    assert the_task(cid, "exchange").state == "in_transit"
    assert sweep(now=due).tasks_run == 1
    assert the_task(cid, "exchange").state == "done"
    assert (case_of(cid).phase, case_of(cid).state, case_of(cid).closed_at) == ("closed", "resolved", due)
    shipment = db.session.execute(select(Shipment).where(Shipment.direction == "replacement")).scalar_one()
    assert (shipment.status, shipment.signed_at) == ("signed", due)


def test_mediated_exchange_seller_never_ships_fails_the_task_visibly(ctx, t0):
    oid, buyer, seller, cid = _mediated_exchange(t0)
    assert sweep(now=t0 + H(72)).tasks_run == 1
    task = the_task(cid, "exchange")
    assert (task.state, task.attempts) == ("failed", 1)
    assert task.last_error
    assert case_of(cid).phase == "execution"


# ---------------------------------------------------------------- penalties

def test_each_penalty_kind_is_applied_once_with_a_penalty_row(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    listing_id, shop_id = order.items[0].product_id, seller.shop_id
    penalties = [{"kind": "takedown", "listing_id": listing_id}, {"kind": "points", "points": 6},
                 {"kind": "restrict", "days": 7}, {"kind": "blacklist"}]
    cid = mediated(order, buyer, seller, t0, remedy="partial_refund", amount_fen=2_000, penalties=penalties)
    assert case_of(cid).penalties == penalties
    done = tasks(cid, "penalty")
    assert [(t.detail, t.state) for t in done] == [(p, "done") for p in penalties]
    assert all(moved(t.id) == [] for t in done)
    rows = db.session.execute(select(Penalty).order_by(Penalty.id)).scalars().all()
    assert [(p.kind, p.shop_id, p.case_id, p.task_id) for p in rows] == [
        (pen["kind"], shop_id, cid, t.id) for pen, t in zip(penalties, done)]
    assert (rows[0].listing_id, rows[1].points, rows[2].until) == (listing_id, 6, t0 + timedelta(days=7))
    shop = db.session.get(Shop, shop_id)
    assert (shop.points, shop.restricted_until, shop.is_blacklisted) == (6, t0 + timedelta(days=7), True)
    assert db.session.get(Product, listing_id).status == "taken_down"
    case = case_of(cid)
    assert (case.phase, case.state) == ("closed", "resolved")
    assert money(order.id)["refunded_fen"] == 2_000

    # running them again (a duplicate job, an early sweep, a sweep long after) applies nothing twice
    for task_id in [t.id for t in done]:
        run_task(task_id, t0 + H(1))
        run_task(task_id, t0 + H(1), trigger="start")
    sweep(now=t0 + H(24 * 30))
    sweep(now=t0 + H(24 * 30))
    assert db.session.execute(select(func.count()).select_from(Penalty)).scalar_one() == 4
    assert db.session.get(Shop, shop_id).points == 6


def test_penalties_alone_are_executed_and_the_case_closes(ctx, t0):
    """A listing complaint without an order: no money, only the takedown."""
    buyer, seller = make_user("buyer"), make_user("seller")
    listing = make_product(seller.shop, 9_900)
    cid = mediated(None, buyer, seller, t0, remedy="dismiss", type="listing_violation", listing_id=listing.id,
                   penalties=[{"kind": "takedown", "listing_id": listing.id}])
    (task,) = tasks(cid)
    assert (task.kind, task.state, task.order_id) == ("penalty", "done", None)
    assert db.session.get(Product, listing.id).status == "taken_down"
    assert case_of(cid).phase == "closed"


def test_a_takedown_of_another_shops_listing_is_refused_when_proposed(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    elsewhere = make_product(make_user("seller").shop)
    with pytest.raises(Invalid) as err:
        mediated(order, buyer, seller, t0, remedy="partial_refund", amount_fen=1_000,
                 penalties=[{"kind": "takedown", "listing_id": elsewhere.id}])
    assert "penalties" in err.value.details
    assert db.session.get(Product, elsewhere.id).status == "on_sale"


# ---------------------------------------------------------------- exactly once

def test_a_job_delivered_twice_and_an_early_sweep_move_the_money_once(ctx, t0, queued):
    ids = agreed_refund(t0, amount_fen=7_000)
    (job,) = queued
    assert job[0] == "run_task"
    task = the_task(ids["case"], "refund")
    assert (task.state, task.due_at, task.on_timeout) == ("pending", t0, "start")  # due at once
    assert case_of(ids["case"]).state == "executing"

    tid = task.id
    run_task(*job[1:])
    run_task(*job[1:])
    assert sweep(now=t0 + H(1)).tasks_run == 0   # done: nothing due
    assert moved(tid) == [("refund:escrow", "refund", 7_000)]
    assert case_of(ids["case"]).state == "resolved"
    assert triggers(ids["case"]) == ["open", "agree", "complete"]


def test_a_job_that_never_arrives_is_run_by_the_sweeper_once(ctx, t0, queued):
    ids = agreed_refund(t0, amount_fen=7_000)
    tid = the_task(ids["case"], "refund").id
    assert sweep(now=t0 - SECOND).tasks_run == 0
    first, second = sweep(now=t0), sweep(now=t0)  # the task is due at once: the next sweep runs it
    assert (first.tasks_run, second.tasks_run) == (1, 0)
    assert moved(tid) == [("refund:escrow", "refund", 7_000)]
    assert case_of(ids["case"]).closed_at == t0


def test_a_crash_after_the_escrow_refund_leaves_nothing_and_the_rerun_pays_once(ctx, t0, queued, monkeypatch):
    ids = agreed_refund(t0, amount_fen=7_000)
    (job,) = queued
    task_id = the_task(ids["case"], "refund").id
    original, seen = execution.STEPS["refund"], []

    def crashing(task, now, rules):
        original(task, now, rules)
        seen.append(balance(escrow_code(ids["order"])))  # the money has moved, inside the transaction
        raise RuntimeError("worker killed")

    monkeypatch.setitem(execution.STEPS, "refund", crashing)
    with pytest.raises(RuntimeError):
        run_task(*job[1:])
    assert seen == [3_000]
    assert moved(task_id) == []
    assert (task_of(task_id).state, money(ids["order"])["escrow_fen"]) == ("pending", 10_000)

    monkeypatch.setitem(execution.STEPS, "refund", original)
    run_task(*job[1:])   # the redelivered job
    run_task(*job[1:])
    assert moved(task_id) == [("refund:escrow", "refund", 7_000)]
    assert money(ids["order"])["escrow_fen"] == 3_000
    assert case_of(ids["case"]).state == "resolved"


def test_a_crash_after_the_advance_leaves_nothing_and_the_next_sweep_advances_once(ctx, t0, monkeypatch):
    ids = agreed_refund(t0, state="completed", amount_fen=4_000)
    fund_guarantee(20_000)
    task_id = the_task(ids["case"], "refund").id
    due = task_of(task_id).due_at

    def crash(*args, **kwargs):
        assert balance("platform:guarantee") == 16_000  # advance and receivable written, not committed
        raise RuntimeError("worker killed")

    monkeypatch.setattr("app.cases.services.after_task", crash)
    with pytest.raises(RuntimeError):
        run_task(task_id, due)
    assert moved(task_id) == []
    assert task_of(task_id).state == "awaiting_seller"
    assert tasks(ids["case"], "recovery") == []
    assert balance("platform:guarantee") == 20_000

    monkeypatch.undo()
    assert sweep(now=due).tasks_run == 1
    assert sweep(now=due).tasks_run == 0
    assert moved(task_id) == [("refund:advance", "advance", 4_000), ("receivable", "receivable", 4_000)]
    (recovery,) = tasks(ids["case"], "recovery")
    assert moved(recovery.id) == [("recover:0:balance", "recovery", 4_000),
                                  ("recover:0:settle", "receivable_settled", 4_000)]
    assert balance("platform:guarantee") == 20_000
    assert money(ids["order"])["refunded_fen"] == 4_000


def test_a_crash_between_balance_and_deposit_in_a_recovery_takes_each_once(ctx, t0, queued, monkeypatch):
    ids = agreed_refund(t0, state="completed", amount_fen=10_000)
    run_task(*queued.pop()[1:])        # the refund task starts: it waits for the seller
    pay_out(ids["shop"], 6_000)        # balance 4 000
    top_up_deposit(ids["shop"], 9_000)
    fund_guarantee(10_000)
    refund = the_task(ids["case"], "refund")
    due = refund.due_at
    run_task(refund.id, due)                        # the advance; its recovery job is queued
    recovery = the_task(ids["case"], "recovery")
    rid = recovery.id
    ((_, job_task, job_at),) = queued
    assert (job_task, recovery.state) == (rid, "pending")
    original_move = execution._move

    def crashing_move(task, source, dest, amount, step, *args):
        if step.endswith(":deposit"):   # the balance was taken, the deposit is next
            raise RuntimeError("worker killed")
        return original_move(task, source, dest, amount, step, *args)

    monkeypatch.setattr(execution, "_move", crashing_move)
    with pytest.raises(RuntimeError):
        run_task(job_task, job_at)
    recovery = task_of(rid)
    assert (recovery.state, recovery.recovered_fen) == ("pending", 0)
    assert moved(rid) == []
    assert shop_money(ids["shop"]) == {"balance": 4_000, "deposit": 9_000}
    assert balance(receivable_code(ids["shop"])) == 10_000

    monkeypatch.setattr(execution, "_move", original_move)
    sweep(now=due + H(1))   # the pending recovery is still due
    sweep(now=due + H(1))
    run_task(job_task, job_at)  # the job redelivered late
    recovery = task_of(rid)
    assert (recovery.state, recovery.recovered_fen) == ("done", 10_000)
    assert moved(rid) == [("recover:0:balance", "recovery", 4_000), ("recover:0:deposit", "recovery", 6_000),
                          ("recover:0:settle", "receivable_settled", 10_000)]
    assert shop_money(ids["shop"]) == {"balance": 0, "deposit": 3_000}
    assert balance(receivable_code(ids["shop"])) == 0


def test_a_crash_while_the_seller_pays_leaves_nothing_and_paying_again_pays_once(ctx, t0, monkeypatch):
    ids = agreed_refund(t0, state="completed", amount_fen=3_000)
    task_id = the_task(ids["case"], "refund").id
    monkeypatch.setattr("app.cases.services.after_task", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        perform_action(ids["case"], "pay_refund", actor=seller_of(ids), now=t0 + H(1))
    assert moved(task_id) == []
    assert (task_of(task_id).state, case_of(ids["case"]).event_count) == ("awaiting_seller", 2)
    monkeypatch.undo()
    perform_action(ids["case"], "pay_refund", actor=seller_of(ids), now=t0 + H(2))
    assert moved(task_id) == [("refund:seller", "seller_refund", 3_000)]
    assert shop_money(ids["shop"])["balance"] == 7_000


def test_a_penalty_crashing_before_commit_is_applied_once_on_the_rerun(ctx, t0, queued, monkeypatch):
    order, buyer, seller = make_order(state="delivered", price_fen=10_000, now=t0)
    shop_id = seller.shop_id
    cid = mediated(order, buyer, seller, t0, remedy="dismiss", penalties=[{"kind": "points", "points": 3}])
    ((_, task_id, at),) = queued
    monkeypatch.setattr("app.cases.services.after_task", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        run_task(task_id, at)
    assert db.session.get(Shop, shop_id).points == 0
    monkeypatch.undo()
    run_task(task_id, at)
    run_task(task_id, at)
    db.session.expire_all()
    assert db.session.get(Shop, shop_id).points == 3
    assert db.session.execute(select(func.count()).select_from(Penalty)).scalar_one() == 1
    assert case_of(cid).phase == "closed"


# ---------------------------------------------------------------- the jobs a worker receives

def test_every_queued_job_fits_the_celery_task_that_receives_it(ctx, t0, monkeypatch):
    """With CELERY_BROKER_URL set, `enqueue` sends (name, args) to the worker's task of that
    name; the arguments must be JSON and must fit that task's signature."""
    from app.worker import celery_app

    sent = []
    monkeypatch.setattr("app.jobs.dispatch", lambda name, *args: sent.append((name, args)))
    agreed_refund(t0, amount_fen=1_000)
    assert [name for name, _ in sent] == ["run_task"]
    for name, args in sent:
        json.dumps(args)
        inspect.signature(celery_app.tasks[f"tiaojie.{name}"].run).bind(*args)
