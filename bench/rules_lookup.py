"""What reading the rules table costs now that an admin's settings live in the database (app/rules.py
`get_rules`: one small SELECT of `rule_settings` per call, the Rules object rebuilt only when the rows
changed): the time per call with no setting, with 5 settings, and the configuration-only lookup it replaced,
on PostgreSQL. Prints figures; asserts nothing.

    .venv/bin/python -m bench.rules_lookup [--database-url …]   (wipes that database)
"""
import statistics
import time

from .common import arg_parser, make_app, reset_schema

N = 2000


def _per_call(fn):
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(N):
            fn()
        runs.append((time.perf_counter() - start) / N * 1e6)
    return statistics.median(runs)


def main():
    args = arg_parser(__doc__).parse_args()
    app = make_app(args.database_url)
    from app.auth.models import User
    from app.extensions import db
    from app.rules import RuleSetting, configured_rules, get_rules
    reset_schema(app)
    with app.app_context():
        admin = User(username="bench-admin", display_name="a", role="admin", password_hash="x")
        db.session.add(admin)
        db.session.commit()
        rows = [("config only (before)", configured_rules), ("get_rules, no setting", get_rules)]
        figures = [(name, _per_call(fn)) for name, fn in rows]
        for key in ("mediation_queue_hours", "max_modifications", "confirmation_hours", "ruling_hours",
                    "late_shipment_percent"):
            db.session.add(RuleSetting(key=key, value=get_rules()[key] + 1, updated_by=admin.id))
        db.session.commit()
        figures.append(("get_rules, 5 settings", _per_call(get_rules)))
        db.session.commit()
    print(f"{'lookup':<26}{'µs per call':>12}")
    for name, micros in figures:
        print(f"{name:<26}{micros:>12.1f}")


if __name__ == "__main__":
    main()
