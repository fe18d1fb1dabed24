"""The deadline sweeper: fires every overdue deadline as the `system` actor.

Rows are claimed oldest deadline first, in batches, with FOR UPDATE SKIP LOCKED on
PostgreSQL, so sweepers running at once never fire the same deadline twice; each batch
is one transaction (each case in its own savepoint), so a crash loses at most the batch
in flight, which the next run picks up again. Memory stays flat: only one batch of
rows is loaded at a time.

Every row is isolated: a case or order whose timeout raises (a domain error, or anything
unexpected) is rolled back to its savepoint, logged with its id, and recorded on its row
(`sweep_error`, `sweep_attempts`) with its deadline moved back by a growing back-off; the
sweep goes on. Execution tasks do the same with their `last_error`."""
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from ..cases.models import Case
from ..cases.services import apply_action
from ..db_tx import lock, transaction
from ..errors import DomainError
from ..execution.models import ExecutionTask
from ..execution.services import run_task
from ..extensions import db
from ..jobs import register_job
from ..metrics.services import refresh_rollups
from ..orders.models import Order
from ..orders.services import apply_order_timeout
from ..rules import get_rules
from ..timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    fired: int = 0
    failed: int = 0
    orders_confirmed: int = 0
    tasks_run: int = 0
    errors: list = field(default_factory=list)


def _claim(query, batch_size):
    query = query.limit(batch_size)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.execute(query).scalars().all()


def sweep(now=None, batch_size=200):
    """Fire what is due at `now`, each case, order and task at most once: a deadline this sweep re-armed at or
    before `now` (a rule of 0 hours, a retry at once) waits for the next sweep, so no rule can make one spin."""
    now, rules, result = now or utcnow(), get_rules(), SweepResult()
    seen = set()  # ids fired in this sweep whose new deadline is already due
    while _sweep_cases(now, rules, batch_size, result, seen):
        pass
    seen = set()
    while _sweep_orders(now, rules, batch_size, result, seen):
        pass
    _sweep_tasks(now, batch_size, result)
    _refresh_metrics(now, result)
    return result


def _refresh_metrics(now, result):
    """The seller metrics' daily rollup follows what this sweep and everyone since the last one changed.
    A failure is logged and recorded; the deadlines already fired stay fired, and the next sweep retries."""
    try:
        refresh_rollups(now=now)
    except Exception as exc:  # noqa: BLE001 - the rollup must not stop the sweeper
        db.session.rollback()
        result.errors.append(("metrics", "refresh", f"{type(exc).__name__}: {exc}"))
        log.exception("the metrics rollup was not refreshed; the next sweep tries again")


def _sweep_tasks(now, batch_size, result):
    """Execution tasks: each due one runs through run_task, which locks the case and the task
    and checks again that it is due, so sweepers running at once fire it once."""
    last_id = 0
    while True:
        ids = db.session.execute(select(ExecutionTask.id).where(
            ExecutionTask.due_at <= now, ExecutionTask.state != "done", ExecutionTask.id > last_id)
            .order_by(ExecutionTask.id).limit(batch_size)).scalars().all()
        db.session.rollback()
        if not ids:
            return
        for task_id in ids:
            try:
                run_task(task_id, now=now)
                result.tasks_run += 1
            except Exception as exc:  # noqa: BLE001 - one bad task must not stop the sweep
                message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
                _postpone_task(task_id, message, now)
                result.failed += 1
                result.errors.append((f"task {task_id}", "run", message))
                log.warning("task %s failed in the sweeper: %s", task_id, message,
                            exc_info=None if isinstance(exc, DomainError) else exc)
        last_id = ids[-1]
        db.session.expunge_all()


def _sweep_cases(now, rules, batch_size, result, seen):
    with transaction():
        # oldest deadline first: the claim walks ix_cases_due, never re-reading rows already swept
        query = select(Case).where(Case.due_at <= now, Case.phase != "closed")
        if seen:
            query = query.where(Case.id.not_in(seen))
        cases = _claim(query.order_by(Case.due_at, Case.id), batch_size)
        for case in cases:
            trigger = case.on_timeout
            try:
                with db.session.begin_nested():
                    apply_action(case, trigger, actor=None, role="system", data={}, now=now, rules=rules)
                    if case.sweep_attempts:
                        case.sweep_error, case.sweep_attempts = None, 0
                result.fired += 1
            except Exception as exc:  # noqa: BLE001 - one bad case must not stop the sweep
                db.session.refresh(case)
                case.due_at = _record_failure(case, trigger, exc, now, rules, result)
            if case.due_at is not None and case.due_at <= now:
                seen.add(case.id)
    db.session.expunge_all()
    return bool(cases)


def _record_failure(row, trigger, exc, now, rules, result):
    """Log the failure of a case's or order's timeout and record it on the row; returns when to try
    again (the back-off doubles with each failure in a row, from the retry delay up to 32 times it)."""
    message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
    log.log(logging.WARNING if isinstance(exc, DomainError) else logging.ERROR,
            "deadline %s on %s %s (id %s) failed: %s", trigger, type(row).__name__.lower(), row.number, row.id, message,
            exc_info=None if isinstance(exc, DomainError) else exc)
    row.sweep_error, row.sweep_attempts = message[:500], row.sweep_attempts + 1
    result.failed += 1
    result.errors.append((row.number, trigger, message))
    return now + timedelta(hours=rules["execution_retry_hours"] * 2 ** min(row.sweep_attempts - 1, 5))


def _postpone_task(task_id, message, now):
    """Record the error on the task and try it again after the retry delay — unless another sweeper
    or worker moved the task on meanwhile. Never raises: the next sweep finds the task again."""
    db.session.rollback()
    try:
        with transaction():
            task = lock(ExecutionTask, task_id, fresh=True)
            if task is None or task.state == "done" or task.due_at is None or task.due_at > now:
                return
            task.last_error = message[:500]
            task.due_at = now + timedelta(hours=get_rules()["execution_retry_hours"])
    except Exception:  # noqa: BLE001 - the sweep goes on
        log.exception("could not record the failure of task %s; the next sweep tries it again", task_id)


def _sweep_orders(now, rules, batch_size, result, seen):
    with transaction():
        query = select(Order).where(Order.auto_confirm_at <= now, Order.is_frozen.is_(False),
                                    Order.status.in_(("shipped", "delivered")))
        if seen:
            query = query.where(Order.id.not_in(seen))
        orders = _claim(query.order_by(Order.auto_confirm_at, Order.id), batch_size)
        for order in orders:
            try:
                with db.session.begin_nested():
                    apply_order_timeout(order, now, rules)
                    if order.sweep_attempts:
                        order.sweep_error, order.sweep_attempts = None, 0
                result.orders_confirmed += 1
            except Exception as exc:  # noqa: BLE001 - one bad order must not stop the sweep
                db.session.refresh(order)
                order.auto_confirm_at = _record_failure(order, "auto_confirm", exc, now, rules, result)
            if order.auto_confirm_at is not None and order.auto_confirm_at <= now:
                seen.add(order.id)
    db.session.expunge_all()
    return bool(orders)


register_job("sweep", lambda: sweep())
