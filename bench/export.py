"""bench.export — the case CSV export (GET /api/v1/cases/export.csv) of 10,000 and of 100,000 cases: peak RSS,
peak Python memory (tracemalloc) and rows/s, each export in a fresh process so its peak is its own. Flat memory
means the 100k/10k ratio of the peaks stays near 1 while the rows grow tenfold.

    .venv/bin/python -m bench.export                       # a temporary SQLite file
    .venv/bin/python -m bench.export --database-url postgresql+psycopg://postgres@127.0.0.1:5432/tiaojie_bench

The database is wiped (SQLite: a new file; PostgreSQL: DROP SCHEMA public CASCADE), migrated, and filled with
100,000 cases by bulk INSERT: 10,000 in one shop, 90,000 in another, so `?shop=` picks the 10,000."""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta

from bench.common import ROOT, ensure_database, make_app, table

SMALL, LARGE = 10_000, 100_000
KINDS = ("refund_only", "return_refund", "exchange", "compensation")
REASONS = ("quality", "damaged", "not_as_described", "wrong_item")


def setup(url):
    """A fresh schema with an admin, a buyer, two shops and LARGE cases; returns the shops' ids."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from app.auth.models import User
    from app.cases.models import Case
    from app.catalog.models import Shop
    from app.extensions import db
    app = make_app(url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            ensure_database(db.engine)
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        small, large = Shop(name="十千店", required_deposit_fen=0), Shop(name="九万店", required_deposit_fen=0)
        admin = User(username="bench-admin", display_name="管理员", role="admin")
        buyer = User(username="bench-buyer", display_name="=HYPERLINK(\"x\")买家", role="buyer")
        for user in (admin, buyer):
            user.set_password("bench-pass")
        db.session.add_all([small, large, admin, buyer])
        db.session.commit()
        start, opened = time.perf_counter(), datetime(2026, 1, 1)
        for first in range(0, LARGE, 10_000):
            db.session.execute(insert(Case), [
                dict(number=f"AS{i:010d}", kind=KINDS[i % 4], reason=REASONS[i % 4], phase="closed", state="resolved",
                     amount_fen=100 + i, buyer_id=buyer.id, shop_id=small.id if i < SMALL else large.id,
                     remedy_type="full_refund", remedy_amount_fen=100 + i, created_at=opened + timedelta(minutes=i),
                     updated_at=opened + timedelta(minutes=i + 30), description="", item_ids=[], penalties=[],
                     version=1)
                for i in range(first, first + 10_000)])
            db.session.commit()
        print(f"inserted {LARGE:,} cases in {time.perf_counter() - start:.1f} s ({db.engine.dialect.name})")
        ids = {"small": small.id}
        db.session.remove()
    return ids


def measure(url, query):
    """In this (fresh) process: export `query` once for time and peak RSS, then once under tracemalloc."""
    from app.auth.models import User
    from app.auth.services import issue_token
    from app.extensions import db
    from sqlalchemy import select
    app = make_app(url)
    with app.app_context():
        token = issue_token(db.session.execute(select(User).where(User.username == "bench-admin")).scalar_one())
        db.session.remove()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}

    def export(q):
        response = client.get(f"/api/v1/cases/export.csv?{q}", headers=headers, buffered=False)
        assert response.status_code == 200 and response.is_streamed
        rows = size = 0
        for chunk in response.response:
            rows, size = rows + chunk.count(b"\n"), size + len(chunk)
        response.close()
        return rows - 1, size

    export("kind=complaint")  # warm: imports, compiled statements, translations; no rows
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    rows, size = export(query)
    seconds = time.perf_counter() - start
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    export(query)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rows": rows, "bytes": size, "seconds": seconds, "rss_before_kb": rss_before, "rss_peak_kb": rss_peak,
            "traced_peak": traced}


def main():
    from bench.common import arg_parser
    parser = arg_parser(__doc__.split("\n")[0])
    parser.set_defaults(database_url=None)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process: the query to export
    args = parser.parse_args()
    if args.measure is not None:  # the child: one export, figures as JSON on the last line
        print(json.dumps(measure(args.database_url, args.measure)))
        return
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='tiaojie-export-')}/bench.sqlite"
    ids = setup(url)
    results = {}
    for name, query in (("10k", f"shop={ids['small']}"), ("100k", "")):
        out = subprocess.run([sys.executable, "-m", "bench.export", "--database-url", url, "--measure", query],
                             cwd=ROOT, capture_output=True, text=True, check=True, env={**os.environ})
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    rows = [(name, f"{r['rows']:,}", f"{r['bytes'] / 1e6:.1f}", f"{r['seconds']:.2f}", f"{r['rows'] / r['seconds']:,.0f}",
             f"{r['rss_before_kb'] / 1024:.1f}", f"{r['rss_peak_kb'] / 1024:.1f}",
             f"{(r['rss_peak_kb'] - r['rss_before_kb']) / 1024:.1f}", f"{r['traced_peak'] / 1e6:.2f}")
            for name, r in results.items()]
    table(f"CSV export through GET /api/v1/cases/export.csv ({url.split(':')[0]}), load {os.getloadavg()[0]:.2f}",
          ("export", "rows", "MB", "s", "rows/s", "RSS before MB", "RSS peak MB", "RSS growth MB", "traced peak MB"),
          rows)
    small, large = results["10k"], results["100k"]
    print(f"\n100k / 10k: rows x{large['rows'] / small['rows']:.1f}, time x{large['seconds'] / small['seconds']:.1f}, "
          f"peak RSS x{large['rss_peak_kb'] / small['rss_peak_kb']:.2f}, "
          f"traced peak x{large['traced_peak'] / small['traced_peak']:.2f}")


if __name__ == "__main__":
    main()
