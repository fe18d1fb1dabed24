"""Random cases driven to random remedies, with crashes injected between execution steps,
duplicate deliveries of the jobs and (on PostgreSQL) two sweepers at once. After every step
every invariant of `flask payments verify` holds; after each run every task moved its money
exactly once, every platform advance is either recovered or shows as an open receivable, and
every task ends done or visibly failed."""
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.cases.services import open_case, perform_action
from app.catalog.models import Shop
from app.catalog.queries import shop_standing
from app.db_tx import transaction
from app.deadlines.services import sweep
from app.errors import DomainError
from app.execution import services as execution
from app.execution.models import ExecutionTask
from app.extensions import db
from app.orders.queries import money_for
from app.payments.models import JournalEntry, JournalLine
from app.payments.services import balance, receivable_code, transfer
from app.timeutil import utcnow

from ..concurrency import race
from ..factories import make_order, make_user
from ..readers import assert_money_ok
from .test_ledger_properties import _clean


class Crash(Exception):
    """A worker dying between a ledger movement and the rest of its transaction."""


scenario = st.fixed_dictionaries({
    "order_state": st.sampled_from(["paid", "delivered", "completed"]),
    "remedy": st.sampled_from(["full_refund", "partial_refund", "return_refund", "compensation", "dismiss"]),
    "share": st.integers(1, 100),
    "seller_pays": st.booleans(),
    "malicious": st.booleans(),
    "penalty": st.sampled_from([None, {"kind": "points", "points": 3}, {"kind": "blacklist"}]),
})


def _to_execution(s, mediator, t):
    price = 10_000
    order, buyer, seller = make_order(state=s["order_state"], price_fen=price, now=t)
    if s["malicious"]:
        buyer.is_malicious_refund = True
        db.session.commit()
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="other", amount_fen=price, now=t)
    perform_action(case.id, "refuse", actor=seller, data={"reason": "不同意"}, now=t)
    perform_action(case.id, "escalate", actor=buyer, data={"type": "quality"}, now=t)
    perform_action(case.id, "respond", actor=seller, data={"statement": "已说明"}, now=t)
    perform_action(case.id, "assign", actor=mediator, now=t)
    perform_action(case.id, "start_review", actor=mediator, now=t)
    amount = max(1, price * s["share"] // 100)
    perform_action(case.id, "propose", actor=mediator, now=t, data={
        "remedy": s["remedy"], "amount_fen": amount, "findings": "查明", "rule": "规则",
        "penalties": [s["penalty"]] if s["penalty"] else []})
    perform_action(case.id, "accept_proposal", actor=buyer, now=t)
    try:
        perform_action(case.id, "accept_proposal", actor=seller, now=t)
    except Crash:
        pass  # the inline job died after the commit: the task is still pending
    return case.id, seller


def _sweep(clock):
    try:
        sweep(clock)
    except Crash:
        pass


def _sweeps(app, clock, concurrent):
    """One sweep; on PostgreSQL two sweepers at the same moment, each in its own connection."""
    if concurrent:
        assert race(app, [lambda: _sweep(clock)] * 2) == [None, None]
    else:
        _sweep(clock)


@given(scenarios=st.lists(scenario, min_size=1, max_size=3), crash_plan=st.lists(st.booleans(), min_size=8, max_size=8),
       duplicates=st.lists(st.integers(0, 50), max_size=6), income=st.booleans())
def test_execution_is_exactly_once_under_crashes_and_duplicates(app, ctx, monkeypatch, scenarios, crash_plan,
                                                                duplicates, income):
    _clean()
    mediator = make_user("mediator")
    with transaction():
        transfer("platform:capital", "platform:guarantee", 10**9, "fund-guarantee", kind="fund")
    moves, real_move = [0], execution._move

    def crashing_move(task, *args, **kwargs):
        real_move(task, *args, **kwargs)
        moves[0] += 1
        if moves[0] <= len(crash_plan) and crash_plan[moves[0] - 1]:
            raise Crash()  # the n-th ledger movement crashes its transaction, as planned
    monkeypatch.setattr(execution, "_move", crashing_move)

    t = utcnow()
    sellers = []
    for s in scenarios:
        case_id, seller = _to_execution(s, mediator, t)
        sellers.append((seller, s["seller_pays"], case_id))
        assert_money_ok()
    for seller, pays, case_id in sellers:
        if pays:
            try:
                perform_action(case_id, "pay_refund", actor=seller, now=t + timedelta(hours=1))
            except (DomainError, Crash):
                pass
            assert_money_ok()
    task_ids = db.session.execute(select(ExecutionTask.id)).scalars().all()
    for n in duplicates:  # the same job delivered again, at any time
        if task_ids:
            try:
                execution.run_task(task_ids[n % len(task_ids)], t + timedelta(hours=n))
            except (DomainError, Crash):
                pass
            assert_money_ok()
    if income:  # the shops earn money later: recovery can take it back (a penalised shop sells nothing more)
        for seller, _, _ in sellers:
            if shop_standing(db.session.get(Shop, seller.shop_id), t) == "good":
                make_order(seller=seller, state="completed", price_fen=50_000, now=t)
    clock = t
    for _ in range(8):  # the sweeper keeps going; crashes stop once the budget is used
        clock += timedelta(hours=49)
        _sweeps(app, clock, concurrent=db.engine.dialect.name == "postgresql")
        assert_money_ok()
    monkeypatch.setattr(execution, "_move", real_move)
    sweep(clock + timedelta(hours=49))
    assert_money_ok()

    # every entry balances and all accounts sum to zero
    assert db.session.execute(select(JournalLine.entry_id).group_by(JournalLine.entry_id)
                              .having(func.sum(JournalLine.amount_fen) != 0)).all() == []
    assert db.session.execute(select(func.coalesce(func.sum(JournalLine.amount_fen), 0))).scalar_one() == 0
    # no order refunded beyond what was paid
    for oid, money in money_for(db.session.execute(select(JournalEntry.order_id).distinct()
                                                   .where(JournalEntry.order_id.is_not(None))).scalars().all()).items():
        assert money["refunded_fen"] <= money["paid_fen"]
        assert money["escrow_fen"] >= 0
    tasks = db.session.execute(select(ExecutionTask)).scalars().all()
    for task in tasks:
        entries = db.session.execute(select(JournalEntry).where(JournalEntry.task_id == task.id)).scalars().all()
        keys = [e.idempotency_key for e in entries]
        assert len(keys) == len(set(keys))
        if task.kind == "refund":
            paid = sum(e.amount_fen for e in entries if e.kind in ("refund", "seller_refund", "advance"))
            assert paid == (task.amount_fen if task.state == "done" else 0)  # exactly once, or not at all
        if task.kind == "recovery":
            assert task.state in ("done", "in_progress") and task.owed_fen >= 0
        else:
            assert task.state == "done" or (task.state == "failed" and task.last_error), (task.kind, task.state)
    # every advance is recovered or shows as an open receivable of exactly what is owed
    for shop_id in {task.shop_id for task in tasks}:
        owed = sum(task.owed_fen for task in tasks if task.kind == "recovery" and task.shop_id == shop_id)
        assert balance(receivable_code(shop_id)) == owed
