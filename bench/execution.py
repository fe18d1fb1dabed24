"""Execution-task throughput: `run_task` inline against the same tasks on Celery workers.

Rows: `--tasks` agreed refunds on paid orders (the money is in escrow), each case in
execution with one pending refund task. The first is made through the real services
(order, payment, after-sales request, the seller's agreement) with the job queue switched
off; the rest are copies of its rows (order, item, escrow account, payment entry and lines,
case, events with their hash chain recomputed, system messages, task), bulk-inserted.

Loops, each on its own set of tasks:

  inline   app.jobs.dispatch(*job) with no broker configured, in a loop in this process:
           run_task inline, what a web request does after its commit (the embedded default)
  celery   the same jobs sent by app.jobs.dispatch with CELERY_BROKER_URL set to `--redis-url`,
           `--sends` times each (default 2, each job's copies one after the other, so two
           workers usually hold the same task at once), to `--workers` real
           `celery -A app.worker worker` processes on this database. Timed from the first send
           until every task is done, the queue is empty and no message is unacknowledged.

The workers are started once, before the clock (start-up is printed, not counted); each
loop first runs `--warmup` tasks, not counted (the workers' children create the Flask
app and connect on their first task); then the tasks are split into `--rounds` chunks,
run in turn by the two loops, alternating which goes first, so a burst of load elsewhere
hits both.

Printed: tasks/s for each loop, the ratio celery / inline (the aim is >= 50 %), what each
worker ran, the duplicates (ledger refund entries beyond one per task: must be 0) and a
ledger check. `--order rounds` sends a chunk's jobs, then the chunk's jobs again (the
copies do not race); `--worker-arg` and `--worker-env` pass options and environment to
the workers, to try a configuration without changing the app.

    .venv/bin/python -m bench.execution --database-url postgresql+psycopg://postgres@127.0.0.1:5432/tiaojie_bench \
        --redis-url redis://127.0.0.1:6379/15
The Redis index is flushed before and after the run."""
import contextlib
import functools
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from time import perf_counter
from types import SimpleNamespace

try:
    from . import common
except ImportError:  # run as a script: python bench/execution.py
    import common

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
PRICE_FEN = 8_800


# ---------------------------------------------------------------- rows

def _copy(obj, **changes):
    """The column values of `obj` (primary key left out) with `changes`, as an insert row."""
    from sqlalchemy import inspect
    row = {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs
           if not any(column.primary_key for column in attr.columns)}
    row.update(changes)
    return row


def _insert(model, rows):
    """Bulk INSERT … RETURNING id, the ids in the order of `rows`."""
    from sqlalchemy import insert

    from app.extensions import db
    if not rows:
        return []
    return db.session.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows).scalars().all()


def agreed_refunds(buyer, seller, product, n):
    """`n` paid orders, each with a refund_only case its seller agreed to: the case is in
    execution/executing with one pending refund task, the order's price held in escrow.
    Nothing is run or sent. Returns the jobs the app queued, [(name, args)], one
    ("run_task", (task id, …)) per task in id order; the rows are committed."""
    from unittest import mock

    from sqlalchemy import select

    from app.cases.models import Case
    from app.cases.services import open_case, perform_action
    from app.execution.models import ExecutionTask
    from app.extensions import db
    from app.orders.models import Order
    from app.orders.services import create_order, perform_order_action

    with mock.patch("app.jobs.dispatch") as dispatch:  # queued after the commit: recorded, not run or sent
        order = create_order(buyer=buyer, items=[(product, 1)], address="杭州市")
        perform_order_action(order.id, "pay", actor=buyer)
        case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=product.price_fen)
        perform_action(case.id, "agree", actor=seller)
    order, case = db.session.get(Order, order.id), db.session.get(Case, case.id)
    task = db.session.execute(select(ExecutionTask).where(ExecutionTask.case_id == case.id)).scalar_one()
    assert (case.phase, case.state, task.kind, task.state) == ("execution", "executing", "refund", "pending")
    [(name, task_id, *rest)] = [c.args for c in dispatch.call_args_list]
    assert (name, task_id) == ("run_task", task.id), dispatch.call_args_list
    ids = [task.id] + (_clone(order, case, task, n - 1) if n > 1 else [])
    db.session.commit()
    return [(name, (task_id, *rest)) for task_id in ids]


def _clone(order, case, task, n):
    from sqlalchemy import String, bindparam, cast, func, literal, select, update

    from app.cases.audit import event_hash
    from app.cases.models import Case, CaseEvent, CaseMessage
    from app.execution.models import ExecutionTask
    from app.extensions import db
    from app.orders.models import Order, OrderItem
    from app.payments.models import Account, JournalEntry, JournalLine
    from app.payments.services import escrow_code

    def rows_of(model, *where, order_by=None):
        return db.session.execute(select(model).where(*where).order_by(order_by or model.id)).scalars().all()

    items = rows_of(OrderItem, OrderItem.order_id == order.id)
    escrow = db.session.execute(select(Account).filter_by(code=escrow_code(order.id))).scalar_one()
    entries = rows_of(JournalEntry, JournalEntry.order_id == order.id)
    assert [e.kind for e in entries] == ["pay"]
    lines = rows_of(JournalLine, JournalLine.entry_id == entries[0].id)
    events = rows_of(CaseEvent, CaseEvent.case_id == case.id, order_by=CaseEvent.seq)
    messages = rows_of(CaseMessage, CaseMessage.case_id == case.id)
    assert len(messages) == len(events) and {m.event_id for m in messages} == {e.id for e in events}

    order_ids = _insert(Order, [_copy(order, number=f"CLONE-{i}") for i in range(n)])
    db.session.execute(update(Order).where(Order.id.in_(order_ids))
                       .values(number=literal(order.number[:-8]) + func.lpad(cast(Order.id, String), 8, "0")),
                       execution_options={"synchronize_session": False})
    _insert(OrderItem, [_copy(item, order_id=oid) for oid in order_ids for item in items])
    escrows = _insert(Account, [_copy(escrow, code=escrow_code(oid), order_id=oid) for oid in order_ids])
    key = entries[0].idempotency_key
    entry_ids = _insert(JournalEntry, [_copy(entries[0], order_id=oid,
                                             idempotency_key=key.replace(f":{order.id}:", f":{oid}:"))
                                       for oid in order_ids])
    _insert(JournalLine, [_copy(line, entry_id=eid, account_id=aid if line.account_id == escrow.id else line.account_id)
                          for eid, aid in zip(entry_ids, escrows) for line in lines])
    case_ids = _insert(Case, [_copy(case, order_id=oid, number=f"CLONE-{i}") for i, oid in enumerate(order_ids)])
    db.session.execute(update(Case).where(Case.id.in_(case_ids))
                       .values(number=literal(case.number[:-6]) + func.lpad(cast(Case.id, String), 6, "0")),
                       execution_options={"synchronize_session": False})
    event_rows, heads = [], []
    for cid in case_ids:  # each copy's chain recomputed: the hash covers the case id
        prev = ""
        for event in events:
            row = _copy(event, case_id=cid, prev_hash=prev)
            row["hash"] = prev = event_hash(prev, SimpleNamespace(**row))
            event_rows.append(row)
        heads.append({"cid": cid, "head": prev})
    event_ids = iter(_insert(CaseEvent, event_rows))
    new_event = [dict(zip((e.id for e in events), (next(event_ids) for _ in events))) for _ in case_ids]
    table = Case.__table__
    db.session.execute(table.update().where(table.c.id == bindparam("cid")).values(audit_head=bindparam("head")),
                       heads)
    _insert(CaseMessage, [_copy(m, case_id=cid, event_id=mapping[m.event_id])
                          for cid, mapping in zip(case_ids, new_event) for m in messages])
    return _insert(ExecutionTask, [_copy(task, case_id=cid, order_id=oid) for cid, oid in zip(case_ids, order_ids)])


def make_tasks(people, n):
    from app.auth.models import User
    from app.catalog.models import Product
    from app.extensions import db
    return agreed_refunds(db.session.get(User, people["buyer_id"]), db.session.get(User, people["seller_id"]),
                          db.session.get(Product, people["product_id"]), n)


def check(task_ids):
    """(tasks done, refund entries, duplicates, unbalanced entries, negative escrows) for `task_ids`."""
    from sqlalchemy import func, select

    from app.execution.models import ExecutionTask
    from app.extensions import db
    from app.payments.models import Account, JournalEntry, JournalLine
    db.session.rollback()
    done = db.session.execute(select(func.count()).select_from(ExecutionTask).where(
        ExecutionTask.id.in_(task_ids), ExecutionTask.state == "done")).scalar_one()
    entries, tasks = db.session.execute(select(func.count(), func.count(JournalEntry.task_id.distinct())).where(
        JournalEntry.kind == "refund", JournalEntry.task_id.in_(task_ids))).one()
    unbalanced = db.session.execute(select(func.count()).select_from(
        select(JournalLine.entry_id).group_by(JournalLine.entry_id)
        .having(func.sum(JournalLine.amount_fen) != 0).subquery())).scalar_one()
    negative = db.session.execute(select(func.count()).select_from(
        select(Account.id).join(JournalLine, JournalLine.account_id == Account.id).where(Account.kind == "escrow")
        .group_by(Account.id).having(func.sum(JournalLine.amount_fen) < 0).subquery())).scalar_one()
    return done, entries, entries - tasks, unbalanced, negative


# ---------------------------------------------------------------- loops

def inline_loop(jobs):
    """The jobs through app.jobs.dispatch with no broker configured: run_task in this process."""
    from flask import current_app

    from app.jobs import dispatch
    assert not current_app.config["CELERY_BROKER_URL"]
    start = perf_counter()
    for name, args in jobs:
        dispatch(name, *args)
    return perf_counter() - start


class WorkersFailed(RuntimeError):
    pass


def _die_with_parent():
    """preexec_fn: on Linux the worker gets SIGTERM when the process that started it dies."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Workers:
    """`count` worker processes, the command line of the README (`celery -A app.worker worker
    --loglevel=warning -c 1 --pool=prefork -n <name>@%h` plus `extra_args`), on `database_url`
    and `redis_url`. As a context manager: started and answering a ping on entry (start-up
    time in `startup_s`), warm-stopped (SIGTERM) on exit; `output` is then their log."""

    def __init__(self, database_url, redis_url, count=2, extra_args=(), extra_env=None, prefix="bench"):
        self.database_url, self.redis_url = database_url, redis_url
        self.extra_args, self.extra_env = list(extra_args), dict(extra_env or {})
        self.names = [f"{prefix}{i + 1}-{os.getpid()}" for i in range(count)]
        self.procs, self.output = [], ""

    def command(self, name):
        return [str(Path(sys.executable).with_name("celery")), "-A", "app.worker", "worker", "--loglevel=warning",
                "-c", "1", "--pool=prefork", "-n", f"{name}@%h", *self.extra_args]

    def __enter__(self):
        from celery import Celery
        # control commands (ping, stats) go through a Celery app's producer pool, and app.worker's
        # took its broker from this process's environment: an app of our own talks to `redis_url`
        self.control = Celery("tiaojie-control", broker=self.redis_url)
        self.instance = tempfile.TemporaryDirectory(prefix="tiaojie-workers-")
        self.log = tempfile.TemporaryFile("w+")
        env = {**os.environ, "DATABASE_URL": self.database_url, "CELERY_BROKER_URL": self.redis_url,
               "TIAOJIE_INSTANCE": self.instance.name, "TIAOJIE_CONFIG": "development", **self.extra_env}
        start = perf_counter()
        try:
            self.procs = [subprocess.Popen(self.command(name), cwd=common.ROOT, env=env, stdout=self.log,
                                           stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
                          for name in self.names]
            self.wait(lambda: self.ping() >= set(self.names), "starting", timeout=120)
        except BaseException:
            self.__exit__()
            raise
        self.startup_s = perf_counter() - start
        return self

    def ping(self):
        replies = self.control.control.ping(timeout=1)
        return {host.split("@")[0] for reply in replies for host in reply}

    def wait(self, condition, what, timeout, interval=0.05):
        """Poll `condition` until it holds; WorkersFailed if a worker exits, logs a traceback, or time runs out."""
        deadline = time.monotonic() + timeout
        while not condition():
            self.log.seek(0)
            log = self.log.read()
            problem = ("a worker exited" if any(p.poll() is not None for p in self.procs) else
                       "a task failed" if "Traceback" in log else
                       f"not done after {timeout} s" if time.monotonic() > deadline else None)
            if problem:
                raise WorkersFailed(f"workers {what}: {problem}\n{log[-3000:]}")
            time.sleep(interval)

    def dispatch(self, app, jobs, copies=1, order="pairs"):
        """Each job `copies` times — in a row (`order` "pairs") or in `copies` rounds over all the
        jobs ("rounds") — sent the way the app sends it: app.jobs.dispatch with
        CELERY_BROKER_URL set, which calls app.worker's celery_app.send_task — handed a connection to
        `redis_url`, since that Celery app took its broker from this process's environment."""
        from unittest import mock

        from app.jobs import dispatch
        from app.worker import celery_app
        with celery_app.connection_for_write(self.redis_url) as conn, \
                mock.patch.dict(app.config, CELERY_BROKER_URL=self.redis_url), \
                mock.patch.object(celery_app, "send_task", functools.partial(celery_app.send_task, connection=conn)):
            sequence = ([job for job in jobs for _ in range(copies)] if order == "pairs" else jobs * copies)
            for name, args in sequence:
                dispatch(name, *args)

    def wait_until_drained(self, redis, done, total, what, timeout, stall=15):
        """Wait until the queue is empty, no message is unacknowledged (acks_late: a message is
        acknowledged after its task committed) and `done()` reaches `total`. WorkersFailed if the
        queue stays drained for `stall` seconds with tasks not done: messages were lost (e.g.
        someone flushed the Redis index, dropping the queue's binding)."""
        drained_since = None

        def drained():
            nonlocal drained_since
            if redis.llen("celery") or redis.hlen("unacked"):
                drained_since = None
                return False
            left = total - done()
            if left <= 0:
                return True
            drained_since = drained_since or time.monotonic()
            if time.monotonic() - drained_since > stall:
                raise WorkersFailed(f"workers {what}: the queue is empty and nothing is unacknowledged, but "
                                    f"{left} tasks are not done: messages lost (Redis keys now: {redis.dbsize()})")
            return False
        self.wait(drained, what, timeout)

    def runs(self):
        """{worker name: tiaojie.run_task messages it ran}."""
        stats = self.control.control.inspect(timeout=2).stats() or {}
        return {host.split("@")[0]: s.get("total", {}).get("tiaojie.run_task", 0) for host, s in stats.items()}

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.control.close()
        self.log.seek(0)
        self.output = self.log.read()
        self.log.close()
        self.instance.cleanup()


def celery_loop(app, workers, jobs, sends, order, redis):
    """Seconds from the first send until every task is done and every message acknowledged."""
    from sqlalchemy import func, select

    from app.execution.models import ExecutionTask
    from app.extensions import db
    ids = {args[0] for _, args in jobs}

    def done():  # asked only once the queue is drained; no transaction is left open between polls
        count = db.session.execute(select(func.count()).select_from(ExecutionTask).where(
            ExecutionTask.id.between(min(ids), max(ids)), ExecutionTask.state == "done")).scalar_one()
        db.session.rollback()
        return count
    start = perf_counter()
    workers.dispatch(app, jobs, sends, order)
    sent = perf_counter() - start
    workers.wait_until_drained(redis, done, len(ids), "running the tasks", timeout=600)
    return perf_counter() - start, sent


# ---------------------------------------------------------------- main

def chunks(items, n):
    size = -(-len(items) // n)
    return [items[i:i + size] for i in range(0, len(items), size)]


def main(argv=None):
    parser = common.arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000, help="refund tasks per loop (%(default)s)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="the tasks are split into this many chunks, run in turn by the two loops, "
                             "alternating which goes first (%(default)s)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="tasks each loop runs first, not counted: the workers' children create the "
                             "Flask app and connect on their first task (%(default)s)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS,
                        help="Redis index for the workers, flushed before and after ($BENCH_REDIS_URL or %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (%(default)s)")
    parser.add_argument("--sends", type=int, default=2, help="messages per task id (%(default)s)")
    parser.add_argument("--order", choices=("pairs", "rounds"), default="pairs",
                        help="pairs: each id's copies one after the other, so they race (default); "
                             "rounds: a chunk's ids, then the chunk's ids again")
    parser.add_argument("--worker-arg", action="append", default=[], metavar="ARGS",
                        help="extra options for the worker command line, e.g. '--pool=solo' (repeatable)")
    parser.add_argument("--worker-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the workers (repeatable)")
    parser.add_argument("--no-celery", action="store_true", help="inline only")
    args = parser.parse_args(argv)
    worker_args = [a for arg in args.worker_arg for a in shlex.split(arg)]
    worker_env = dict(item.split("=", 1) for item in args.worker_env)

    import redis

    from app.extensions import db
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the workers on the way out
    app = common.make_app(args.database_url, CELERY_BROKER_URL="")  # inline here; the workers use Redis
    common.reset_schema(app)
    broker = None if args.no_celery else redis.Redis.from_url(args.redis_url)
    loops = ["inline"] if args.no_celery else ["inline", "celery"]
    load_start = os.getloadavg()[0]
    times = {loop: [] for loop in loops}
    warm, sent = {}, 0.0
    with app.app_context():
        people = common.make_people()
        start = perf_counter()
        jobs = {loop: make_tasks(people, args.tasks + args.warmup) for loop in loops}
        print(f"{len(loops) * (args.tasks + args.warmup)} agreed refunds made in {perf_counter() - start:.1f} s")
        checked = [job_args[0] for loop in loops for _, job_args in jobs[loop]]
        if broker:
            broker.flushdb()
        workers = (contextlib.nullcontext() if args.no_celery else Workers(
            app.config["SQLALCHEMY_DATABASE_URI"], args.redis_url, args.workers, worker_args, worker_env))
        try:
            with workers:
                def run(loop, chunk):
                    if loop == "inline":
                        return inline_loop(chunk), 0.0
                    return celery_loop(app, workers, chunk, args.sends, args.order, broker)
                for loop in loops:
                    warm[loop] = run(loop, jobs[loop][:args.warmup])[0] if args.warmup else 0.0
                parts = {loop: chunks(jobs[loop][args.warmup:], args.rounds) for loop in loops}
                for r in range(args.rounds):
                    for loop in (loops if r % 2 == 0 else loops[::-1]):
                        seconds, send_seconds = run(loop, parts[loop][r])
                        times[loop].append((len(parts[loop][r]), seconds))
                        sent += send_seconds
                runs = {} if args.no_celery else workers.runs()
        except WorkersFailed as exc:
            raise SystemExit(str(exc)) from None
        finally:
            if broker:
                broker.flushdb()
        done, entries, duplicates, unbalanced, negative = check(checked)
        db.session.remove()

    rows, rate = [], {}
    for loop in loops:
        seconds = sum(t for _, t in times[loop])
        rate[loop] = args.tasks / seconds
        chunk_rates = [n / t for n, t in times[loop]]
        rows.append((loop, args.tasks, args.tasks * (args.sends if loop == "celery" else 1), f"{seconds:.2f}",
                     f"{rate[loop]:.0f}", f"{1000 * seconds / args.tasks:.1f}", f"{min(chunk_rates):.0f}",
                     f"{max(chunk_rates):.0f}", f"{warm[loop]:.2f}"))
    common.table(f"Execution throughput: {args.tasks} refund tasks per loop, {args.rounds} rounds",
                 ["loop", "tasks", "messages", "seconds", "tasks/s", "ms/task", "worst chunk", "best chunk",
                  f"warm-up s ({args.warmup})"], rows)
    if not args.no_celery:
        command = " ".join(Workers("…", "…", 1, worker_args).command("w1")[1:])
        print(f"\ncelery: {args.workers} workers, {args.sends} messages per task ({args.order}): celery {command}"
              + "".join(f" {k}={v}" for k, v in worker_env.items()))
        print(f"worker start-up (until every worker answers a ping; not counted): {workers.startup_s:.1f} s")
        print(f"sending (app.jobs.dispatch in this process, inside the celery time): {sent:.2f} s, "
              f"{1000 * sent / (args.tasks * args.sends):.2f} ms per message")
        print(f"messages run per worker: {runs}  (total {sum(runs.values())}, "
              f"sent {(args.tasks + args.warmup) * args.sends})")
        print(f"ratio celery / inline: {rate['celery'] / rate['inline']:.0%}  (the aim is >= 50 %)")
        if "Traceback" in workers.output:
            print("worker log has a traceback:\n" + workers.output[-3000:])
    print(f"tasks done: {done} of {len(checked)}; refund entries: {entries}; duplicates: {duplicates} (must be 0); "
          f"unbalanced entries: {unbalanced}; negative escrows: {negative}")
    print(f"load average: {load_start:.2f} at start, {os.getloadavg()[0]:.2f} at the end; cores: {os.cpu_count()}")
    return 0 if (duplicates, unbalanced, negative, done) == (0, 0, 0, len(checked)) else 1


if __name__ == "__main__":
    sys.exit(main())
