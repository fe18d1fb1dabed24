"""bench.report — what a case report costs: the full report (template, fonts, 30 thumbnails) against bare
WeasyPrint on the same text and images without the template, for cases of 20, 200 and 500 messages, each
render in a fresh child process (time and peak RSS, VmHWM).

    .venv/bin/python -m bench.report [--database-url sqlite:////tmp/report-bench.db]

The database is wiped (default: a temporary SQLite file: the cost is the rendering, not the queries).
Targets (issue 12): report ≤ 2× bare; 10× the messages ≤ 12× the time (200 vs 20); peak RSS < 300 MB.
Prints figures; asserts nothing."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from bench.common import ROOT, make_app

SIZES = (20, 200, 500)
IMAGES = 30


def build(database_url):
    """Three cases (20 / 200 / 500 thread messages, 30 photos each) through the real services."""
    from flask_migrate import upgrade

    from app.cases.services import open_case
    from app.chat.services import post_case_message
    from app.timeutil import utcnow
    from tests.factories import make_order
    from tests.reports.stories import png, upload

    app = make_app(database_url, EVIDENCE_STORE_URL=f"file://{os.environ['TIAOJIE_INSTANCE']}/evidence")
    ids = {}
    with app.app_context():
        upgrade()
        with app.test_request_context():
            now = utcnow()
            for n in SIZES:
                order, buyer, seller = make_order(state="delivered", now=now)
                cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000,
                                description="杯子收到时有裂纹", now=now).id
                for i in range(IMAGES):
                    upload(cid, buyer, png(n * 100 + i, (800, 600)), description=f"照片 {i}", now=now)
                for i in range(n):
                    post_case_message(cid, actor=(buyer, seller)[i % 2],
                                      body=f"第 {i} 条消息：收到的杯子有裂纹，请尽快处理。" * 3, now=now)
                ids[n] = cid
    return ids


def child(database_url, case_id, mode):
    """Render once in this process; print {"seconds", "pages", "rss_mb"} as JSON."""
    from sqlalchemy import select

    from app.cases.models import Case
    from app.evidence.storage import get_store
    from app.extensions import db
    from app.reports.builder import Viewer, build_report
    from app.reports.render import make_fetcher, render_pdf
    from app.timeutil import utcnow

    app = make_app(database_url, EVIDENCE_STORE_URL=f"file://{os.environ['TIAOJIE_INSTANCE']}/evidence")
    with app.test_request_context():
        case = db.session.execute(select(Case).where(Case.id == case_id)).scalar_one()
        start = time.perf_counter()
        context, thumbs = build_report(case, Viewer(evidence=True, ledger=True), utcnow())
        fetcher = make_fetcher(get_store(), thumbs)
        built = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats
            profile = cProfile.Profile()
            profile.enable()
        if mode == "report":
            pdf = render_pdf(context, fetcher)
        else:
            pdf = bare(context, fetcher)
        seconds, build_seconds = time.perf_counter() - built, built - start
        if os.environ.get("BENCH_PROFILE"):
            profile.disable()
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
    rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    import io

    from pypdf import PdfReader
    print(json.dumps({"seconds": seconds, "build_seconds": build_seconds, "bytes": len(pdf),
                      "pages": len(PdfReader(io.BytesIO(pdf)).pages),
                      "rss_mb": rss / 1024}))


def bare(context, fetcher):
    """The same words and images as the report, one paragraph per text node of its HTML, without the template's
    structure and CSS: what WeasyPrint costs for this content alone."""
    from html import escape
    from html.parser import HTMLParser

    from flask import render_template
    from weasyprint import HTML

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("style", "title")
            if tag == "img":
                self.parts.append(f'<img src="{escape(dict(attrs)["src"])}">')

        def handle_endtag(self, tag):
            self.skip -= tag in ("style", "title")

        def handle_data(self, data):
            if not self.skip and data.strip():
                self.parts.append(f"<p>{escape(data.strip())}</p>")

    parser = Text()
    parser.feed(render_template("reports/case.html", **context))
    html = "<html><body>" + "".join(parser.parts) + "</body></html>"
    return HTML(string=html, base_url="evidence:", url_fetcher=fetcher).write_pdf()  # nosec - bench only


def run(database_url, case_id, mode):
    out = subprocess.run([sys.executable, "-m", "bench.report", "--database-url", database_url, "--child",
                          str(case_id), mode], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", nargs=2, metavar=("CASE_ID", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TIAOJIE_INSTANCE", tempfile.mkdtemp(prefix="tiaojie-report-bench-"))
    if args.child:
        return child(args.database_url, int(args.child[0]), args.child[1])
    url = args.database_url or f"sqlite:///{os.environ['TIAOJIE_INSTANCE']}/bench.db"
    ids = build(url)
    print(f"load average {os.getloadavg()[0]:.2f}; {IMAGES} photos per case; one render per child process")
    print("seconds: the render alone (the same data gathered by the builder first, in both; its time: build s)")
    print(f"{'messages':>8} {'build s':>8} {'report s':>9} {'bare s':>7} {'ratio':>6} {'pages':>6} {'report MB':>10} "
          f"{'bare MB':>8}")
    results = {}
    for n, cid in ids.items():
        r, b = run(url, cid, "report"), run(url, cid, "bare")
        results[n] = r
        print(f"{n:>8} {r['build_seconds']:>8.2f} {r['seconds']:>9.2f} {b['seconds']:>7.2f} "
              f"{r['seconds'] / b['seconds']:>6.2f} "
              f"{r['pages']:>6} {r['rss_mb']:>10.0f} {b['rss_mb']:>8.0f}")
    print(f"time(200)/time(20) = {results[200]['seconds'] / results[20]['seconds']:.2f} "
          "(10x the messages; target <= 12)")
    print(f"time(500)/time(20) = {results[500]['seconds'] / results[20]['seconds']:.2f} (25x the messages)")


if __name__ == "__main__":
    main()
