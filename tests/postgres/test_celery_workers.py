"""PostgreSQL + Redis: execution tasks on real Celery workers run exactly once.

1,000 agreed refunds (paid orders, the money in escrow) have their execution task created
but not run: the first through the real services, the rest copies of its rows
(bench.execution.agreed_refunds). Two real `celery -A app.worker worker` processes
(prefork, one child each) on the test database and a Redis index of their own then get
every job the app queued for them twice, sent by the app's own `app.jobs.dispatch` with
CELERY_BROKER_URL set — each job's two messages one after the other, so both workers
usually hold the same task at once. Afterwards every task is done, every order's escrow
paid its buyer back exactly once, and the ledger balances.

Skipped unless --db=postgres (tests/conftest.py), and when Redis is not reachable.
TEST_CELERY_BROKER_URL chooses the Redis index (default 11); it is flushed before and after."""
import os

import pytest
from sqlalchemy import func, select

from app.cases.audit import verify_chain
from app.cases.models import Case, CaseEvent
from app.execution.models import ExecutionTask
from app.extensions import db
from app.orders.models import Order
from app.payments.models import Account, JournalEntry, JournalLine
from bench.execution import Workers, WorkersFailed, agreed_refunds

from ..factories import make_product, make_user

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")  # not the benchmark's index 9
TASKS = 1_000
PRICE_FEN = 8_800
WAIT_SECONDS = 300  # a bound on how long to wait for the workers, not an assertion on speed


@pytest.fixture
def redis_index():
    """The test's own Redis index, empty before and after the test; skip if Redis is down."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2, socket_timeout=10)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {BROKER_URL}: {exc}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _done():
    """Tasks done, read in a transaction of its own (none is left open while the workers run)."""
    db.session.rollback()
    count = db.session.execute(select(func.count()).select_from(ExecutionTask)
                               .where(ExecutionTask.state == "done")).scalar_one()
    db.session.rollback()
    return count


def test_two_workers_run_each_refund_once_though_every_job_is_sent_twice(app, ctx, redis_index):
    seller = make_user("seller")
    jobs = agreed_refunds(make_user("buyer"), seller, make_product(seller.shop, PRICE_FEN), TASKS)
    task_ids = db.session.execute(select(ExecutionTask.id).order_by(ExecutionTask.id)).scalars().all()
    assert [(name, args[0]) for name, args in jobs] == [("run_task", task_id) for task_id in task_ids]
    assert len(task_ids) == TASKS and _done() == 0

    try:
        with Workers(app.config["SQLALCHEMY_DATABASE_URI"], BROKER_URL, 2, prefix="celerytest-w") as workers:
            workers.dispatch(app, jobs, copies=2)  # each job twice in a row: the two deliveries race each other
            # until every task is done, the queue is empty and nothing is reserved: every message ran and was
            # acknowledged (acks_late: after its task committed)
            workers.wait_until_drained(redis_index, _done, TASKS, "running the jobs", timeout=WAIT_SECONDS)
            runs = workers.runs()
    except WorkersFailed as exc:
        pytest.fail(str(exc))
    output = workers.output

    # both workers took part, and together they ran all 2,000 messages without an error
    assert set(runs) == set(workers.names) and all(runs.values()), runs
    assert sum(runs.values()) == 2 * TASKS, runs
    assert "Traceback" not in output and "ERROR" not in output, output[-3000:]

    db.session.rollback()
    # every task done, paid from escrow at the first attempt
    assert db.session.execute(select(ExecutionTask.kind, ExecutionTask.state, ExecutionTask.paid_by,
                                     ExecutionTask.attempts, func.count())
                              .group_by(ExecutionTask.kind, ExecutionTask.state, ExecutionTask.paid_by,
                                        ExecutionTask.attempts)).all() == [("refund", "done", "escrow", 0, TASKS)]
    # exactly one refund entry per task, for the task's amount, under the step's key
    refunds = db.session.execute(select(JournalEntry.task_id, JournalEntry.amount_fen, JournalEntry.idempotency_key)
                                 .where(JournalEntry.kind == "refund").order_by(JournalEntry.task_id)).all()
    assert len(refunds) == TASKS
    assert [r.task_id for r in refunds] == task_ids
    assert {r.amount_fen for r in refunds} == {PRICE_FEN}
    assert [r.idempotency_key for r in refunds] == [f"task:{t}:refund:escrow" for t in task_ids]
    # the whole ledger: a payment in and a refund out per order, every entry balanced, no escrow below zero
    entries = db.session.execute(select(JournalEntry.kind, func.count(JournalLine.id), func.sum(JournalLine.amount_fen))
                                 .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
                                 .group_by(JournalEntry.id, JournalEntry.kind)).all()
    assert len(entries) == 2 * TASKS
    assert {(kind, lines, int(total)) for kind, lines, total in entries} == {("pay", 2, 0), ("refund", 2, 0)}
    escrows = db.session.execute(select(Account.code, func.sum(JournalLine.amount_fen))
                                 .join(JournalLine, JournalLine.account_id == Account.id)
                                 .where(Account.kind == "escrow").group_by(Account.code)).all()
    assert len(escrows) == TASKS and {int(held) for _, held in escrows} == {0}  # paid back once, never below zero
    # each case completed once (open, agree, complete) and its order closed as refunded
    assert db.session.execute(select(Case.phase, Case.state, func.count())
                              .group_by(Case.phase, Case.state)).all() == [("closed", "resolved", TASKS)]
    assert sorted(db.session.execute(select(CaseEvent.trigger, func.count()).group_by(CaseEvent.trigger)).all()) \
        == [("agree", TASKS), ("complete", TASKS), ("open", TASKS)]
    assert db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all() == [("closed", TASKS)]
    for case in db.session.execute(select(Case).order_by(Case.id)).scalars():
        assert verify_chain(case) == (True, 3), case.number
