"""The sweeper isolates every row: a case whose timeout raises something unexpected is
recorded on its row (error, attempts, a back-off) and the sweep goes on with the other
cases, the orders and the execution tasks; `flask deadlines run --loop` survives a lost
database connection and sweeps again at its next turn."""
from datetime import timedelta
from unittest import mock

from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import OperationalError

from app.cases import services as case_services
from app.cases.models import Case
from app.cases.services import open_case, perform_action
from app.deadlines import cli as deadlines_cli
from app.deadlines import services as deadlines_services
from app.deadlines.services import sweep
from app.execution.models import ExecutionTask
from app.extensions import db
from app.payments.models import JournalEntry
from app.timeutil import utcnow

from ..factories import make_order, make_product, make_user
from ..readers import case_of, order_of

N = 1_000


def overdue_complaints(n, now):
    """`n` complaint cases about one listing, each waiting for the seller's response and overdue
    (oldest first by id), inserted in one statement; returns their ids."""
    seller = make_user("seller")
    product, buyer = make_product(seller.shop), make_user("buyer")
    rows = [{"number": f"BK{i:08d}", "kind": "complaint", "complaint_type": "not_as_described",
             "description": "backlog case", "phase": "complaint", "state": "awaiting_response",
             "listing_id": product.id, "buyer_id": buyer.id, "shop_id": seller.shop_id,
             "due_at": now - timedelta(hours=1, seconds=n - i), "on_timeout": "hand_over", "waiting_for": "seller",
             "created_at": now - timedelta(days=4), "updated_at": now - timedelta(days=4)} for i in range(n)]
    db.session.execute(insert(Case), rows)
    db.session.commit()
    return db.session.execute(select(Case.id).where(Case.number.like("BK%")).order_by(Case.id)).scalars().all()


def pending_refund_task(now):
    """A seller's agreed refund whose execution job was never delivered: the task waits in the database."""
    order, buyer, seller = make_order(state="paid", price_fen=5_000, now=now)
    with mock.patch("app.jobs.dispatch"):
        case = open_case(order.id, actor=buyer, kind="refund_only", reason="not_received", amount_fen=5_000, now=now)
        perform_action(case.id, "agree", actor=seller, now=now)
    task = db.session.execute(select(ExecutionTask).where(ExecutionTask.case_id == case.id)).scalar_one()
    assert task.state == "pending"
    return task.id, order.id


def refunds(order_id):
    return db.session.execute(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.order_id == order_id, JournalEntry.kind == "refund")).scalar_one()


def states(case_ids):
    db.session.expire_all()
    return db.session.execute(select(Case.state, func.count()).where(Case.id.in_(case_ids))
                              .group_by(Case.state)).all()


def test_a_poison_case_is_recorded_and_the_sweep_goes_on(ctx, monkeypatch):
    start = utcnow().replace(microsecond=0)
    order_id = make_order(state="shipped", now=start)[0].id   # its receipt auto-confirms after 10 days
    task_id, refund_order = pending_refund_task(start)
    now = start + timedelta(days=11)
    ids = overdue_complaints(N, now)
    bad = ids[0]  # the oldest deadline: claimed first, in the first batch

    def poison(case, *args):
        if case.id == bad:
            raise RuntimeError("poison row")
    monkeypatch.setitem(case_services.EFFECTS, "hand_over", poison)

    result = sweep(now, batch_size=200)
    assert dict(states(ids)) == {"queued": N - 1, "awaiting_response": 1}
    assert result.failed == 1
    poisoned = case_of(bad)
    assert (poisoned.phase, poisoned.sweep_attempts) == ("complaint", 1)
    assert "RuntimeError: poison row" in poisoned.sweep_error
    retry_at = poisoned.due_at
    assert retry_at > now                                          # backed off
    assert order_of(order_id).status == "completed"                # orders still reached
    assert (db.session.get(ExecutionTask, task_id).state, refunds(refund_order)) == ("done", 1)  # and tasks

    assert sweep(now).failed == 0                                  # not retried before its back-off
    assert case_of(bad).sweep_attempts == 1
    monkeypatch.undo()                                             # the fault is gone
    sweep(retry_at)
    healed = case_of(bad)
    assert (healed.phase, healed.state, healed.sweep_error, healed.sweep_attempts) == ("mediation", "queued", None, 0)


def test_the_back_off_grows_with_each_failure(ctx, monkeypatch):
    now = utcnow().replace(microsecond=0)
    (bad,) = overdue_complaints(1, now)
    monkeypatch.setitem(case_services.EFFECTS, "hand_over", lambda *a: 1 / 0)
    delays, at = [], now
    for _ in range(3):
        sweep(at)
        due = case_of(bad).due_at
        delays.append(due - at)
        at = due
    assert delays[0] > timedelta(0) and delays[1] > delays[0] and delays[2] > delays[1]
    assert case_of(bad).sweep_attempts == 3 and "ZeroDivisionError" in case_of(bad).sweep_error


def test_an_order_that_fails_does_not_stop_the_other_orders(ctx, monkeypatch):
    start = utcnow().replace(microsecond=0)
    orders = [make_order(state="shipped", now=start + timedelta(seconds=i))[0].id for i in range(3)]
    original = deadlines_services.apply_order_timeout

    def poison(order, now, rules):
        if order.id == orders[0]:
            raise RuntimeError("poison order")
        return original(order, now, rules)
    monkeypatch.setattr(deadlines_services, "apply_order_timeout", poison)
    now = start + timedelta(days=11)
    result = sweep(now)
    assert [order_of(o).status for o in orders] == ["shipped", "completed", "completed"]
    assert result.orders_confirmed == 2 and result.failed == 1
    assert "RuntimeError: poison order" in order_of(orders[0]).sweep_error
    monkeypatch.undo()
    retry_at = order_of(orders[0]).auto_confirm_at
    assert retry_at > now
    sweep(retry_at)
    assert order_of(orders[0]).status == "completed"


class StopLoop(Exception):
    """Raised from the loop's sleep to end the test's `--loop` after a few turns."""


def test_the_loop_survives_a_lost_database_connection_and_sweeps_next_turn(app, ctx, runner, monkeypatch):
    now = utcnow().replace(microsecond=0)
    ids = overdue_complaints(3, now)
    db.session.remove()
    lost = []

    def connection_lost(conn, cursor, statement, *args):
        if not lost and "FROM cases" in statement:
            lost.append(statement)
            raise OperationalError(statement, {}, ConnectionError("server closed the connection unexpectedly"))

    turns = []

    def sleep(seconds):
        turns.append(seconds)
        if len(turns) == 2:
            raise StopLoop

    monkeypatch.setattr(deadlines_cli.time, "sleep", sleep)
    event.listen(db.engine, "before_cursor_execute", connection_lost)
    try:
        result = runner.invoke(args=["deadlines", "run", "--loop", "--interval", "0"])
    finally:
        event.remove(db.engine, "before_cursor_execute", connection_lost)
    assert lost and isinstance(result.exception, StopLoop), result.output
    assert "server closed the connection" in result.output
    assert "fired 3 case deadlines" in result.output
    assert dict(states(ids)) == {"queued": 3}
