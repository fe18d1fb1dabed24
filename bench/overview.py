"""The mediator overview and the reason analysis over a large history: how long each page's queries take,
beside a bare `count(*)` over the cases in the same run, and the plan PostgreSQL chose for each statement.

Rows (one bulk INSERT … SELECT each, not the services: the history is a year long): --cases cases over
365 days in 8 categories and --shops shops, 20 mediators; 90 % closed (after 1–200 h), 10 % open in every
phase; 40 % went to mediation (30 % complaints from the start, 10 % escalated requests with a reason and a
complaint type), and those closed were decided 0–72 h after entering mediation; every 7th case had a
deadline pass on someone's silence. Events: opening, entering mediation, decision, breach, closing.

    .venv/bin/python -m bench.overview --database-url postgresql+psycopg://postgres@127.0.0.1:5432/<db> \
        [--cases 100000] [--plans]
"""
import os
import statistics
import time
from datetime import timedelta

try:
    from . import common
except ImportError:  # run as a script: python bench/overview.py
    import common

CATEGORIES = "ARRAY['apparel','electronics','home','food','beauty','books','sports','toys']"
REASONS = "ARRAY['not_received','not_as_described','quality','damaged','wrong_item','missing_parts','no_reason_7d','other']"
TYPES = "ARRAY['not_shipped','broken_promise','not_as_described','quality','off_platform_payment','abuse','listing_violation']"
OPEN = ("ARRAY['negotiation','complaint','mediation','mediation','resolution','execution']",
        "ARRAY['requested','awaiting_response','queued','assigned','proposed','executing']")

CASES_SQL = f"""
WITH s AS (
  SELECT g, :now - make_interval(days => g % 365, secs => (g * 37) % 86400) AS created, g % 10 = 9 AS open,
         g % 10 < 4 AS mediated, (g / 10) % 6 + 1 AS p FROM generate_series(1, :n) g)
INSERT INTO cases (number, kind, reason, complaint_type, category, description, item_ids, phase, state, amount_fen,
  buyer_id, shop_id, mediator_id, modify_count, evidence_extended, remedy_amount_fen, remedy_final, penalties,
  buyer_malicious, due_at, on_timeout, waiting_for, overdue_count, sweep_attempts, audit_head, event_count,
  created_at, updated_at, closed_at, version)
SELECT 'OV' || lpad(g::text, 10, '0'), CASE WHEN g % 10 < 3 THEN 'complaint' ELSE 'refund_only' END,
  CASE WHEN g % 10 >= 3 THEN ({REASONS})[1 + (g * 7) % 8] END,
  CASE WHEN mediated THEN ({TYPES})[1 + (g * 3) % 7] END,
  ({CATEGORIES})[1 + (g / 7) % 8], 'bench', '[]',
  CASE WHEN open THEN ({OPEN[0]})[p] ELSE 'closed' END, CASE WHEN open THEN ({OPEN[1]})[p] ELSE 'resolved' END, 100,
  :buyer, :shop0 + g % :shops,
  CASE WHEN (open AND p >= 4) OR (NOT open AND mediated) THEN :med0 + g % 20 END,
  0, false, 0, false, '[]', false,
  CASE WHEN open THEN :now + interval '1 day' END, CASE WHEN open THEN 'expire' END,
  CASE WHEN open THEN 'seller' END, CASE WHEN g % 97 = 0 THEN 1 ELSE 0 END, 0, '', 0,
  created, created, CASE WHEN NOT open THEN created + make_interval(hours => 1 + (g * 13) % 200) END, 1
FROM s"""

EVENT_COLUMNS = "(case_id, seq, actor_role, trigger, from_phase, to_phase, to_state, payload, created_at, prev_hash, hash)"
EVENTS_SQL = [
    f"""INSERT INTO case_events {EVENT_COLUMNS}
        SELECT id, 1, 'buyer', 'open', NULL, 'negotiation', 'requested', '{{}}', created_at, '', '' FROM cases""",
    f"""INSERT INTO case_events {EVENT_COLUMNS}
        SELECT id, 2, 'seller', 'respond', 'complaint', 'mediation', 'queued', '{{}}', created_at + interval '2 hours',
               '', '' FROM cases WHERE complaint_type IS NOT NULL""",
    f"""INSERT INTO case_events {EVENT_COLUMNS}
        SELECT id, 3, 'seller', 'accept_proposal', 'resolution', 'execution', 'executing', '{{}}',
               LEAST(closed_at, created_at + make_interval(hours => 2 + id % 72)), '', ''
        FROM cases WHERE complaint_type IS NOT NULL AND closed_at IS NOT NULL""",
    f"""INSERT INTO case_events {EVENT_COLUMNS}
        SELECT id, 4, 'system', 'agree', 'negotiation', 'execution', 'executing', '{{}}',
               created_at + interval '48 hours', '', '' FROM cases WHERE id % 7 = 0""",
    f"""INSERT INTO case_events {EVENT_COLUMNS}
        SELECT id, 5, 'system', 'complete', 'execution', 'closed', 'resolved', '{{}}', closed_at, '', ''
        FROM cases WHERE closed_at IS NOT NULL""",
]


def build(app, n, shops):
    from sqlalchemy import text

    from app.auth.models import User
    from app.catalog.models import Shop
    from app.db_tx import transaction
    from app.extensions import db
    from app.timeutil import utcnow
    with app.app_context():
        people = common.make_people()
        with transaction():
            made = [Shop(name=f"bench shop {i}", category="home", required_deposit_fen=0) for i in range(shops)]
            mediators = [User(username=f"bench-med-{i}", display_name=f"调解员{i:02d}", role="mediator",
                              password_hash="x") for i in range(20)]
            db.session.add_all(made + mediators)
        now = utcnow()
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text(CASES_SQL), {"now": now, "n": n, "buyer": people["buyer_id"], "shop0": made[0].id,
                                           "shops": shops, "med0": mediators[0].id})
            for sql in EVENTS_SQL:
                conn.execute(text(sql))
            conn.execute(text("ANALYZE cases; ANALYZE case_events"))
            events = conn.execute(text("SELECT count(*) FROM case_events")).scalar_one()
        print(f"{n:,} cases, {events:,} events written in {time.perf_counter() - started:.1f} s")
        return now


def timed(fn, repeat=5):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    parser = common.arg_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--shops", type=int, default=2_000)
    parser.add_argument("--plans", action="store_true", help="print EXPLAIN ANALYZE of every statement")
    args = parser.parse_args()
    app = common.make_app(args.database_url)
    common.reset_schema(app)
    now = build(app, args.cases, args.shops)

    from sqlalchemy import text

    from app.extensions import db
    from app.overview.queries import AnalysisFilter, analysis, local_today, overview, trend
    with app.test_request_context():
        today = local_today(now)
        weeks = AnalysisFilter(date_from=today - timedelta(days=83), date_to=today, group="week")
        months = AnalysisFilter(date_from=today - timedelta(days=364), date_to=today, group="month")
        work = {
            "count(*) cases": lambda: db.session.execute(text("SELECT count(*) FROM cases")).scalar_one(),
            "overview (30-day window)": lambda: overview(now, 30),
            "trend 30 days": lambda: trend(now, 30),
            "trend 90 days": lambda: trend(now, 90),
            "analysis 12 weeks, all": lambda: analysis(weeks),
            "analysis 12 months, all": lambda: analysis(months),
            "analysis 12 weeks, one category": lambda: analysis(AnalysisFilter(
                date_from=weeks.date_from, date_to=today, category="toys")),
        }
        rows, base = [], None
        for name, fn in work.items():
            fn()  # warm the cache
            with common.StatementCounter(db.engine) as counter:
                fn()
            ms = timed(fn)
            base = base or ms
            rows.append((name, f"{ms:.1f}", f"{ms / base:.1f}", counter.count))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        common.table(f"median of 5 runs, {args.cases:,} cases (load average {load})",
                     ("query", "ms", "x count(*)", "statements"), rows)

        if args.plans:
            for name in ("overview (30-day window)", "trend 90 days", "analysis 12 months, all"):
                captured = []
                with db.engine.connect() as conn:
                    from sqlalchemy import event
                    listener = lambda c, cur, stmt, params, ctx, many: captured.append((stmt, params))  # noqa: E731
                    event.listen(db.engine, "before_cursor_execute", listener)
                    work[name]()
                    event.remove(db.engine, "before_cursor_execute", listener)
                    for stmt, params in captured:
                        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS OFF) " + stmt, params).scalars().all()
                        print(f"\n--- {name}\n{stmt}\n" + "\n".join(plan))


if __name__ == "__main__":
    main()
