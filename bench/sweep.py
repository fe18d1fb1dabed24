"""Deadline sweeper throughput and memory: app.deadlines.services.sweep over a backlog
of overdue complaint cases, against perform_action measured in the same run.

For each backlog size the cases tables are emptied and N cases are bulk-inserted with one
SQL statement: phase complaint, state awaiting_response, on_timeout hand_over, waiting
for the seller, due in the past, for a real buyer, shop and listing. sweep(now,
batch_size) then fires `hand_over` on every one (each case moves to mediation/queued,
with one event and one system message), and the script prints cases/s, the ratio to
perform_action's actions/s, and the memory the sweep took:

  first/last 10%  cases/s over the first and the last tenth of the batches (flat = the
                cost per case does not grow as the sweep works through the backlog)
  claims        the case-claiming queries: how many, their total time, and the time of
                the first, the middle and the last batch's claim and of the final one
                that finds nothing (growing = the query re-reads rows already swept)
  rss peak      highest resident set size sampled every 20 ms during the sweep, minus
                the RSS just before it (what the sweep itself added)
  ru_maxrss     growth of the process's lifetime peak RSS (getrusage) during the sweep
  tracemalloc   peak of Python allocations during a second, untimed sweep of a fresh
                backlog (only with --tracemalloc; tracing slows Python down ~2-3x)

    .venv/bin/python -m bench.sweep --database-url postgresql+psycopg://postgres@127.0.0.1:5432/tiaojie_bench
"""
import os
import resource
import threading
from datetime import timedelta
from time import perf_counter

try:
    from . import actions, common
except ImportError:  # run as a script: python bench/sweep.py
    import actions
    import common


def backlog_insert(people, n, now):
    """INSERT … SELECT … FROM generate_series(1, n): n overdue complaint cases in one statement.
    Columns not set here get the model's own default, so new NOT NULL columns keep working."""
    from sqlalchemy import Integer, String, cast, func, insert, literal, literal_column, select

    from app.cases.models import Case
    table, g = Case.__table__, literal_column("g", Integer)
    fixed = {
        "number": literal("BK") + func.lpad(cast(g, String), 10, "0"),
        "kind": "complaint", "complaint_type": "not_as_described", "description": "backlog case",
        "phase": "complaint", "state": "awaiting_response", "amount_fen": 0,
        "listing_id": people["product_id"], "buyer_id": people["buyer_id"], "shop_id": people["shop_id"],
        "due_at": literal(now - timedelta(hours=1), table.c.due_at.type) - func.make_interval(0, 0, 0, 0, 0, 0, g),
        "on_timeout": "hand_over", "waiting_for": "seller", "audit_head": "", "event_count": 0, "version": 1,
        "created_at": now - timedelta(days=4), "updated_at": now - timedelta(days=4),
    }
    names, exprs = [], []
    for column in table.columns:
        if column.primary_key:
            continue
        if column.name in fixed:
            value = fixed[column.name]
        elif column.default is not None and column.default.is_scalar:
            value = column.default.arg
        elif column.default is not None and column.default.is_callable:
            value = column.default.arg(None)
        else:
            continue  # nullable, or filled by the database
        names.append(column.name)
        exprs.append(value if hasattr(value, "compile") else literal(value, column.type))
    return insert(table).from_select(names, select(*exprs).select_from(func.generate_series(1, n).alias("g")))


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """Peak RSS seen by a background thread sampling every `interval` seconds."""

    def __init__(self, interval=0.02):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.start = self.peak = _rss_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def make_backlog(app, people, n, now):
    """Empty the case tables and insert `n` overdue complaint cases; ANALYZE afterwards."""
    from sqlalchemy import text

    from app.extensions import db
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE case_messages, case_events, cases RESTART IDENTITY CASCADE"))
            conn.execute(backlog_insert(people, n, now))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE cases"))
        db.session.remove()


def check_backlog(app, n):
    """(every case moved to mediation/queued with one event and one message, sampled chains valid)."""
    from sqlalchemy import func, select

    from app.cases.audit import verify_chain
    from app.cases.models import Case, CaseEvent, CaseMessage
    from app.extensions import db
    with app.app_context():
        queued = db.session.execute(select(func.count()).select_from(Case).where(
            Case.phase == "mediation", Case.state == "queued")).scalar_one()
        events = db.session.execute(select(func.count()).select_from(CaseEvent)).scalar_one()
        messages = db.session.execute(select(func.count()).select_from(CaseMessage)).scalar_one()
        ids = db.session.execute(select(func.min(Case.id), func.max(Case.id))).one()
        chains = all(verify_chain(db.session.get(Case, cid))[0] for cid in ids)
        db.session.remove()
    return queued == events == messages == n and chains


class BatchTimer:
    """Times each batch transaction of the sweeper (wraps services._sweep_cases while active)."""

    def __enter__(self):
        from app.deadlines import services
        self.times, self._original = [], services._sweep_cases

        def timed(*args, **kwargs):
            t0 = perf_counter()
            more = self._original(*args, **kwargs)
            if more:
                self.times.append(perf_counter() - t0)
            return more
        services._sweep_cases = timed
        return self

    def __exit__(self, *exc):
        from app.deadlines import services
        services._sweep_cases = self._original

    def rate(self, part, batch_size, share=0.1):
        """cases/s over the first or last `share` of the batches."""
        k = max(1, int(len(self.times) * share))
        chosen = self.times[:k] if part == "first" else self.times[-k:]
        return batch_size * len(chosen) / sum(chosen) if chosen else 0.0


class ClaimTimer:
    """Time spent in the sweeper's case-claiming queries (FROM cases … SKIP LOCKED), each."""

    def __init__(self, engine):
        self.engine, self.times, self._t0 = engine, [], None

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._t0 = perf_counter() if "SKIP LOCKED" in statement and "FROM cases" in statement else None

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self._t0 is not None:
            self.times.append(perf_counter() - self._t0)

    def __enter__(self):
        from sqlalchemy import event
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def timed_sweep(app, batch_size):
    from app.deadlines.services import sweep
    from app.extensions import db
    from app.timeutil import utcnow
    with app.app_context():
        maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        with RssSampler() as rss, BatchTimer() as batches, ClaimTimer(db.engine) as claims:
            t0 = perf_counter()
            result = sweep(utcnow(), batch_size=batch_size)
            elapsed = perf_counter() - t0
        maxrss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - maxrss_before
        db.session.remove()
    return result, elapsed, rss.peak - rss.start, maxrss_growth, batches, claims


def traced_sweep(app, batch_size):
    import tracemalloc

    from app.deadlines.services import sweep
    from app.extensions import db
    from app.timeutil import utcnow
    with app.app_context():
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        t0 = perf_counter()
        result = sweep(utcnow(), batch_size=batch_size)
        elapsed = perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        db.session.remove()
    return result, elapsed, peak


def profile_sweep(app, batch_size, top):
    import cProfile
    import pstats

    from app.deadlines.services import sweep
    from app.extensions import db
    from app.timeutil import utcnow
    with app.app_context():
        profiler = cProfile.Profile()
        profiler.enable()
        sweep(utcnow(), batch_size=batch_size)
        profiler.disable()
        db.session.remove()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def mib(n):
    return f"{n / 2**20:,.1f} MiB"


def main(argv=None):
    parser = common.arg_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, nargs="+", default=[10_000, 100_000],
                        help="backlog sizes to sweep, one after the other (default: 10000 100000)")
    parser.add_argument("--batch-size", type=int, default=200, help="sweep batch size (default %(default)s)")
    parser.add_argument("--actions", type=int, default=1000,
                        help="perform_action calls timed for the ratio (default %(default)s)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also sweep each backlog again under tracemalloc and print its peak")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="also cProfile a sweep of an N-case backlog and print the top functions")
    parser.add_argument("--top", type=int, default=30, help="profile rows to print (default %(default)s)")
    args = parser.parse_args(argv)

    from app.timeutil import utcnow
    app = common.make_app(args.database_url)
    common.reset_schema(app)
    with app.app_context():
        from app.extensions import db
        people = common.make_people()
        db.session.remove()

    def action_rate():
        """(load avg, perform_action actions/s) on 10 fresh mediation/assigned cases."""
        with app.app_context():
            case_ids = common.make_assigned_cases(people, 10)
            db.session.remove()
        load = os.getloadavg()[0]
        return load, actions.measure_service_rate(app, case_ids, args.actions)

    action_rates = [action_rate()]
    sweeps, memory_rows, claim_rows = [], [], []
    for n in args.backlog:
        t0 = perf_counter()
        make_backlog(app, people, n, utcnow())  # empties the case tables first
        insert_s = perf_counter() - t0
        load = os.getloadavg()[0]
        result, elapsed, rss_peak, maxrss_growth, batches, claims = timed_sweep(app, args.batch_size)
        ok = check_backlog(app, n) and result.fired == n and result.failed == 0
        sweeps.append((n, insert_s, result, elapsed, batches, load, ok))
        claim_rows.append((f"{n:,}", len(claims.times), f"{sum(claims.times):.1f}", f"{sum(claims.times) / elapsed:.0%}",
                           *(f"{1000 * t:.1f}" for t in (claims.times[0], claims.times[len(claims.times) // 2],
                                                         claims.times[-2], claims.times[-1]))))
        memory = [f"{n:,}", mib(rss_peak), mib(maxrss_growth)]
        if args.tracemalloc:
            make_backlog(app, people, n, utcnow())
            _, traced_s, peak = traced_sweep(app, args.batch_size)
            memory += [mib(peak), f"{traced_s:.1f}"]
        memory_rows.append(memory)
        print(f"swept {n:,} cases in {elapsed:.1f} s", flush=True)
    action_rates.append(action_rate())  # again after the sweeps; the ratio uses the mean
    mean_rate = sum(rate for _, rate in action_rates) / len(action_rates)

    common.table(f"perform_action in the same run ({args.actions} flag_overdue actions, before and after the sweeps)",
                 ("when", "actions/s", "load avg"),
                 [(when, f"{rate:,.0f}", f"{load:.1f}") for when, (load, rate) in zip(("before", "after"), action_rates)]
                 + [("mean", f"{mean_rate:,.0f}", "")])
    common.table(f"Sweep (batch_size={args.batch_size}): backlog of overdue complaints -> hand_over",
                 ("backlog", "insert s", "fired", "failed", "sweep s", "cases/s", "first 10%/s", "last 10%/s",
                  "vs perform_action", "load avg", "all queued+chained"),
                 [(f"{n:,}", f"{insert_s:.1f}", f"{result.fired:,}", result.failed, f"{elapsed:.1f}",
                   f"{result.fired / elapsed:,.0f}", f"{batches.rate('first', args.batch_size):,.0f}",
                   f"{batches.rate('last', args.batch_size):,.0f}", f"{result.fired / elapsed / mean_rate:.0%}",
                   f"{load:.1f}", "yes" if ok else "NO")
                  for n, insert_s, result, elapsed, batches, load, ok in sweeps])
    common.table("Case claim queries (SELECT … FROM cases … FOR UPDATE SKIP LOCKED, one per batch + a final empty one)",
                 ("backlog", "claims", "total s", "share of sweep", "first ms", "middle ms", "last batch ms",
                  "final empty ms"),
                 claim_rows)
    header = ["backlog", "rss peak - start", "ru_maxrss growth"]
    if args.tracemalloc:
        header += ["tracemalloc peak", "traced sweep s"]
    common.table("Memory during the sweep (flat = does not grow with the backlog)", header, memory_rows)
    print("\naim: cases/s >= 50% of perform_action actions/s")

    if args.profile:
        make_backlog(app, people, args.profile, utcnow())
        print(f"\ncProfile of a sweep of {args.profile:,} cases")
        profile_sweep(app, args.batch_size, args.top)
    return 0 if all(ok for *_, ok in sweeps) else 1


if __name__ == "__main__":
    raise SystemExit(main())
