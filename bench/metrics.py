"""bench.metrics — all shops' service metrics over 1,000,000 orders and 100,000 cases on PostgreSQL,
against a bare `SELECT count(*) FROM orders` in the same run (issue 13's target: within 3× of it).

    .venv/bin/python -m bench.metrics            # creates, fills, measures and drops the database bench_metrics
    .venv/bin/python -m bench.metrics --plans    # …and prints the EXPLAIN ANALYZE plans checked

The history is written in SQL (`INSERT … SELECT generate_series`): 2,000 shops in 8 categories, 1,000,000 paid
orders over the last 120 days, 100,000 cases on them (agreed, timeout and dispute refunds, withdrawn requests,
complaints, 2 % found malicious, 10 % still open), about 3 events per case and 30,000 ratings, nothing later
than now. Then:
- rebuild: `flask metrics rebuild` (app.metrics.services.rebuild_rollups) from scratch;
- refresh: what each sweep does (today, yesterday and the touched days);
- all-shop metrics: app.metrics.queries.all_shops over the window (every shop's figures + every category's
  pooled average) beside count(*) over orders, 11 runs of each, interleaved.
Times are printed, never asserted."""
import os
import statistics
import time
from datetime import timedelta

from sqlalchemy import create_engine, text

from bench.common import arg_parser, make_app, table

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_metrics"
SHOPS, ORDERS, CASES, RATINGS, DAYS = 2_000, 1_000_000, 100_000, 30_000, 120
RUNS = 11
CATEGORIES = ("apparel", "electronics", "home", "food", "beauty", "books", "sports", "toys")

FILL = [
    # 2,000 shops (category by id), 1,000 buyers
    f"""INSERT INTO shops (id, name, category, required_deposit_fen, points, is_blacklisted, created_at)
        SELECT i, 'shop ' || i, (ARRAY{list(CATEGORIES)})[1 + i % 8], 0, 0, false, :now - interval '200 days'
        FROM generate_series(1, {SHOPS}) i""",
    """INSERT INTO users (id, username, display_name, role, password_hash, is_active, session_version,
                          is_malicious_refund, created_at)
        SELECT i, 'buyer' || i, 'buyer ' || i, 'buyer', 'x', true, 1, false, :now - interval '200 days'
        FROM generate_series(1, 1000) i""",
    # 1,000,000 paid orders, evenly over the last DAYS days
    f"""INSERT INTO orders (id, number, buyer_id, shop_id, status, total_fen, shipping_address, created_at, paid_at,
                           is_frozen, sweep_attempts, version)
        SELECT i, 'O' || i, 1 + i % 1000, 1 + i % {SHOPS}, 'completed', 1000 + i % 50000, 'x',
               :now - (i % ({DAYS} * 1440)) * interval '1 minute',
               :now - (i % ({DAYS} * 1440)) * interval '1 minute' + interval '2 minutes', false, 0, 1
        FROM generate_series(1, {ORDERS}) i""",
    # 100,000 cases on every 10th order: k = i % 20 picks the story
    #  0–7 agreed refund · 8–9 timeout refund · 10–12 dispute refund (complaint) · 13–15 withdrawn ·
    #  16 complaint dismissed · 17 exchange · 18–19 open (k = 19 and i % 5 = 0: malicious, closed)
    f"""INSERT INTO cases (id, number, kind, reason, complaint_type, category, description, item_ids, phase, state,
                          amount_fen, order_id, buyer_id, shop_id, modify_count, evidence_extended, remedy_type,
                          remedy_amount_fen, remedy_final, penalties, buyer_malicious, due_at, on_timeout,
                          waiting_for, overdue_count, sweep_attempts, audit_head, event_count, created_at,
                          updated_at, closed_at, version)
        SELECT i, 'C' || i, CASE WHEN k = 17 THEN 'exchange' ELSE 'refund_only' END, 'quality',
               CASE WHEN k BETWEEN 10 AND 12 OR k = 16 THEN 'quality' END, 'home', '', '[]',
               CASE WHEN k = 18 OR (k = 19 AND i % 5 <> 0) THEN 'negotiation' ELSE 'closed' END,
               CASE WHEN k = 18 OR (k = 19 AND i % 5 <> 0) THEN 'requested'
                    WHEN k BETWEEN 13 AND 15 THEN 'withdrawn' WHEN k = 16 THEN 'dismissed' ELSE 'resolved' END,
               1000, o.id, o.buyer_id, o.shop_id, 0, false,
               CASE WHEN k <= 12 OR k = 19 THEN 'full_refund' WHEN k = 16 THEN 'dismiss' WHEN k = 17 THEN 'exchange' END,
               CASE WHEN k <= 12 OR k = 19 THEN 1000 ELSE 0 END, k BETWEEN 10 AND 12, '[]', k = 19 AND i % 5 = 0,
               CASE WHEN k = 18 OR (k = 19 AND i % 5 <> 0) THEN o.paid_at + interval '3 days' END,
               CASE WHEN k = 18 OR (k = 19 AND i % 5 <> 0) THEN 'agree' END,
               CASE WHEN k = 18 OR (k = 19 AND i % 5 <> 0) THEN 'seller' END, 0, 0, '', 3,
               LEAST(o.paid_at + interval '1 hour', :now), LEAST(o.paid_at + interval '3 days', :now),
               CASE WHEN k = 18 OR (k = 19 AND i % 5 <> 0) THEN NULL
                    ELSE LEAST(o.paid_at + interval '1 hour' + (1 + i % 72) * interval '1 hour', :now) END, 1
        FROM (SELECT i, i % 20 AS k FROM generate_series(1, {CASES}) i) s JOIN orders o ON o.id = s.i * 10 - s.i % 9""",
    # events: the request, the seller's first answer (or the system's timeout), and how it ended
    """INSERT INTO case_events (case_id, seq, actor_role, trigger, to_phase, to_state, payload, created_at,
                                prev_hash, hash)
        SELECT id, 1, 'buyer', 'open', 'negotiation', 'requested', '{}', created_at, '', md5(id::text) FROM cases""",
    """INSERT INTO case_events (case_id, seq, actor_role, trigger, to_phase, to_state, payload, created_at,
                                prev_hash, hash)
        SELECT id, 2, CASE WHEN id % 20 IN (8, 9) THEN 'system' ELSE 'seller' END,
               CASE WHEN id % 20 IN (8, 9) THEN 'agree' WHEN id % 20 BETWEEN 10 AND 12 THEN 'refuse' ELSE 'agree' END,
               'negotiation', 'agreed', '{}',
               LEAST(created_at + CASE WHEN id % 20 IN (8, 9) THEN interval '48 hours'
                                 ELSE (id % 600) * interval '1 minute' END, :now), '', md5(id::text || 'b')
        FROM cases WHERE id % 20 <> 18""",
    """INSERT INTO case_events (case_id, seq, actor_role, trigger, to_phase, to_state, payload, created_at,
                                prev_hash, hash)
        SELECT id, 3, CASE WHEN id % 20 BETWEEN 10 AND 12 THEN 'mediator' ELSE 'system' END,
               CASE WHEN id % 20 BETWEEN 10 AND 12 THEN 'propose' ELSE 'complete' END,
               'closed', state, '{}', closed_at, '', md5(id::text || 'c')
        FROM cases WHERE phase = 'closed'""",
    f"""INSERT INTO case_ratings (case_id, buyer_id, shop_id, score, comment, created_at)
        SELECT id, buyer_id, shop_id, 1 + id % 5, '', LEAST(closed_at + interval '1 hour', :now)
        FROM cases WHERE phase = 'closed' ORDER BY id LIMIT {RATINGS}""",
    "SELECT setval('shops_id_seq', 100000), setval('users_id_seq', 100000), setval('orders_id_seq', 10000000), "
    "setval('cases_id_seq', 10000000)",
]


def best(fn, runs=5):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main():
    parser = arg_parser(__doc__.splitlines()[0])
    parser.set_defaults(database_url=DEFAULT_URL)
    parser.add_argument("--plans", action="store_true", help="print the EXPLAIN ANALYZE plans")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = args.database_url
    if not (create_engine(url).url.database or "").startswith("bench"):
        raise SystemExit("bench.metrics creates and drops its database: give it one whose name starts with 'bench'")
    admin = create_engine(create_engine(url).url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = create_engine(url).url.database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(url, args.plans)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url, plans):
    from flask_migrate import upgrade

    from app.extensions import db
    from app.metrics.queries import all_shops, window_days
    from app.metrics.services import rebuild_rollups, refresh_rollups
    from app.timeutil import local_date, utcnow

    app = make_app(url)
    with app.app_context():
        upgrade()
        now = utcnow().replace(microsecond=0)
        start = time.perf_counter()
        with db.engine.begin() as conn:
            for sql in FILL:
                conn.execute(text(sql), {"now": now})
        fill = time.perf_counter() - start
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("orders", "cases", "case_events", "case_ratings")}
        db.session.rollback()

        start = time.perf_counter()
        rows = rebuild_rollups(now=now)
        rebuild = time.perf_counter() - start
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE shop_daily_stats"))
        refresh = best(lambda: refresh_rollups(now=now + timedelta(minutes=1)), runs=RUNS)

        first, last = window_days(local_date(now), 30)  # the Beijing day, as the dashboard
        shops, categories = all_shops(first, last)
        db.session.rollback()

        def metrics():
            all_shops(first, last)
            db.session.rollback()

        def count():
            db.session.execute(text("SELECT count(*) FROM orders")).scalar()
            db.session.rollback()

        metrics(), count()  # warm both alike
        m_times, c_times = [], []
        for _ in range(RUNS):  # interleaved: a busy moment of the machine falls on both alike
            m_times.append(best(metrics, runs=1)[0])
            c_times.append(best(count, runs=1)[0])
        m_best, m_median = min(m_times), statistics.median(m_times)
        c_best, c_median = min(c_times), statistics.median(c_times)

        table("data", ["table", "rows"], [*counts.items(), ("shop_daily_stats", rows)])
        table("timings (seconds)", ["what", "best", f"median of {RUNS}"], [
            ("fill (SQL generate_series)", f"{fill:.1f}", ""),
            ("rollup rebuild from scratch", f"{rebuild:.2f}", ""),
            ("sweeper refresh (touched days)", f"{refresh[0]:.3f}", f"{refresh[1]:.3f}"),
            ("all-shop metrics (window + categories)", f"{m_best:.4f}", f"{m_median:.4f}"),
            ("SELECT count(*) FROM orders", f"{c_best:.4f}", f"{c_median:.4f}"),
        ])
        print(f"\nall-shop metrics / count(*): {m_best / c_best:.2f}× (best), {m_median / c_median:.2f}× (median); "
              f"target ≤ 3×; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{len(shops)} shops, {len(categories)} categories, window {first} … {last}")
        table("category averages over the window", [
            "category", "paid", "refund", "dispute", "complaint", "timeout", "agreed", "breaches", "median <", "rating"],
            [(c, f.paid_orders, f"{f.refund_rate:.4f}", f"{f.dispute_refund_rate:.4f}", f"{f.complaint_rate:.4f}",
              f.timeout_refunds, f.agreed_refunds, f.breaches, f.median_response_under_minutes,
              f"{f.rating_average:.2f}" if f.rating_average else "-") for c, f in sorted(categories.items())])
        if plans:
            print_plans(first, last)


def print_plans(first, last):
    from sqlalchemy.dialects import postgresql

    from app.extensions import db
    from app.metrics import queries

    statements = []
    real_execute = db.session.execute

    def capture(statement, *args, **kwargs):
        statements.append(statement)
        return real_execute(statement, *args, **kwargs)

    db.session.execute = capture
    try:
        queries.all_shops(first, last)
    finally:
        db.session.execute = real_execute
    for title, query in (("all shops and categories (app.metrics.queries.all_shops)", statements[0]),):
        sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        print(f"\nEXPLAIN ANALYZE — {title}")
        for (line,) in db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)):
            print("  " + line)
    print("\nEXPLAIN ANALYZE — SELECT count(*) FROM orders")
    for (line,) in db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM orders")):
        print("  " + line)
    db.session.rollback()


if __name__ == "__main__":
    main()
