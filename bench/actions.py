"""Action throughput: app.cases.services.perform_action against the same statements done
by hand, in the same run, on the same tables and rows.

Every loop fires the system's `flag_overdue` on mediation cases in state `assigned`
(a reflexive step, so a case can take it again and again), round-robin over --cases
cases. Per action each loop does the same work:

  BEGIN; SELECT the case row FOR UPDATE; read the chain head (cases.audit_head);
  UPDATE cases (state, due_at, on_timeout, waiting_for, overdue_count, version,
  audit_head, event_count, updated_at); INSERT case_events (hash-chained);
  INSERT case_messages (the system message); COMMIT.

  raw      psycopg, one connection, hand-written SQL (the floor)
  orm      SQLAlchemy session + the shared transitions machine, no service layer
  service  perform_action(case_id, "flag_overdue", actor=None)

The three loops share the cases, so the audit chains verified at the end prove that the
raw and bare loops wrote the same hash chain the service writes.

    .venv/bin/python -m bench.actions --database-url postgresql+psycopg://postgres@127.0.0.1:5432/tiaojie_bench
"""
import os
from time import perf_counter, process_time
from types import SimpleNamespace

try:
    from . import common
except ImportError:  # run as a script: python bench/actions.py
    import common

TRIGGER = "flag_overdue"


# ---------------------------------------------------------------- the three loops

def service_loop(case_ids, n):
    from app.cases.services import perform_action
    t0 = perf_counter()
    for i in range(n):
        perform_action(case_ids[i % len(case_ids)], TRIGGER, actor=None)
    return perf_counter() - t0


def orm_loop(case_ids, n):
    """The same statements through the ORM and the transitions machine, nothing else."""
    from app.cases.audit import event_hash
    from app.cases.models import Case, CaseEvent, CaseMessage
    from app.extensions import db
    from app.rules import get_rules
    from app.timeutil import utcnow
    from workflows.mediation import PHASE
    rules, session = get_rules(), db.session
    t0 = perf_counter()
    for i in range(n):
        now = utcnow()
        case = session.get(Case, case_ids[i % len(case_ids)], with_for_update=True, populate_existing=True)
        before = (case.phase, case.state)
        PHASE.fire(case, TRIGGER, "system", rules, {})
        case.overdue_count += 1
        case.due_at, case.on_timeout, case.waiting_for = PHASE.deadline_for(case, rules, now)
        case.updated_at = now
        event = CaseEvent(case_id=case.id, seq=case.event_count + 1, actor_id=None, actor_role="system",
                          trigger=TRIGGER, from_phase=before[0], from_state=before[1], to_phase=case.phase,
                          to_state=case.state, payload={"overdue_count": case.overdue_count}, created_at=now,
                          prev_hash=case.audit_head)
        event.hash = event_hash(case.audit_head, event)
        case.audit_head, case.event_count = event.hash, event.seq
        session.add(event)
        session.add(CaseMessage(case_id=case.id, author_role="system", event=event, created_at=now,
                                body=f"[{TRIGGER}] {before[0]}/{before[1]} → {case.phase}/{case.state}"))
        session.commit()
    return perf_counter() - t0


def raw_loop(conn, case_ids, n):
    """Hand-written SQL on one psycopg connection (autocommit off: psycopg sends BEGIN)."""
    from datetime import timedelta

    from psycopg.types.json import Json

    from app.cases.audit import event_hash
    from app.cases.models import Case
    from app.rules import get_rules
    from app.timeutil import utcnow
    columns = [c.name for c in Case.__table__.columns]
    select_sql = f"SELECT {', '.join('cases.' + c for c in columns)} FROM cases WHERE cases.id = %s FOR UPDATE"
    update_sql = ("UPDATE cases SET state=%s, due_at=%s, on_timeout=%s, waiting_for=%s, overdue_count=%s, "
                  "version=%s, audit_head=%s, event_count=%s, updated_at=%s WHERE cases.id = %s AND cases.version = %s")
    event_sql = ("INSERT INTO case_events (case_id, seq, actor_id, actor_role, trigger, from_phase, from_state, "
                 "to_phase, to_state, payload, created_at, prev_hash, hash) "
                 "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING case_events.id")
    message_sql = ("INSERT INTO case_messages (case_id, author_id, author_role, body, event_id, created_at) "
                   "VALUES (%s, %s, %s, %s, %s, %s) RETURNING case_messages.id")
    hours = get_rules()["mediation_action_hours"]
    t0 = perf_counter()
    with conn.cursor() as cur:
        for i in range(n):
            now = utcnow()
            cur.execute(select_sql, (case_ids[i % len(case_ids)],))
            case = dict(zip(columns, cur.fetchone()))
            prev = case["audit_head"]  # the chain head is on the case row
            overdue = case["overdue_count"] + 1
            event = SimpleNamespace(case_id=case["id"], seq=case["event_count"] + 1, actor_id=None,
                                    actor_role="system", trigger=TRIGGER, from_phase=case["phase"],
                                    from_state=case["state"], to_phase=case["phase"], to_state=case["state"],
                                    payload={"overdue_count": overdue}, created_at=now)
            digest = event_hash(prev, event)
            cur.execute(update_sql, (case["state"], now + timedelta(hours=hours), TRIGGER, "mediator", overdue,
                                     case["version"] + 1, digest, event.seq, now, case["id"], case["version"]))
            if cur.rowcount != 1:
                raise RuntimeError("raw loop: version check failed")
            cur.execute(event_sql, (event.case_id, event.seq, None, "system", TRIGGER, event.from_phase,
                                    event.from_state, event.to_phase, event.to_state, Json(event.payload), now,
                                    prev, digest))
            event_id = cur.fetchone()[0]
            cur.execute(message_sql, (case["id"], None, "system",
                                      f"[{TRIGGER}] {case['phase']}/{case['state']} → {case['phase']}/{case['state']}",
                                      event_id, now))
            cur.fetchone()
            conn.commit()
    return perf_counter() - t0


RAW_STATEMENTS = ["SELECT cases FOR UPDATE", "UPDATE cases", "INSERT case_events", "INSERT case_messages"]


# ---------------------------------------------------------------- running them

def setup(app, n_cases):
    """Fresh schema, people and `n_cases` assigned mediation cases; returns the case ids."""
    common.reset_schema(app)
    with app.app_context():
        from app.extensions import db
        people = common.make_people()
        ids = common.make_assigned_cases(people, n_cases)
        db.session.remove()
    return ids


def statements_per_action(app, case_ids, loop):
    """The statements one action of `loop` sends (checked, not timed)."""
    from app.extensions import db
    with common.StatementCounter(db.engine) as counter:
        loop(case_ids, 1)
    return common.statement_kinds(counter.statements)


def measure_service_rate(app, case_ids, n, warmup=200):
    """actions/s of perform_action (used by bench.sweep for its ratio)."""
    with app.app_context():
        service_loop(case_ids, warmup)
        elapsed = service_loop(case_ids, n)
        from app.extensions import db
        db.session.remove()
    return n / elapsed


def run(app, case_ids, n, rounds, warmup):
    """{loop: [seconds per chunk]}, {loop: CPU seconds of this process per action}, statements:
    each loop runs n actions in `rounds` chunks interleaved with the other loops (rotating
    order), so noise from other processes hits all three."""
    import psycopg

    from app.extensions import db
    chunk = max(1, n // rounds)
    times = {"raw": [], "orm": [], "service": []}
    cpu = {name: 0.0 for name in times}
    with app.app_context(), psycopg.connect(common.psycopg_dsn(app)) as conn:
        loops = {"raw": lambda ids, k: raw_loop(conn, ids, k), "orm": orm_loop, "service": service_loop}
        kinds = {"raw": RAW_STATEMENTS}
        for name in ("orm", "service"):
            kinds[name] = statements_per_action(app, case_ids, loops[name])
        for name, loop in loops.items():  # warm caches, prepared statements, compiled SQL
            loop(case_ids, warmup)
        order = list(loops)
        for r in range(rounds):
            for name in order[r % 3:] + order[:r % 3]:
                c0 = process_time()
                times[name].append(loops[name](case_ids, chunk))
                cpu[name] += process_time() - c0
        db.session.remove()
    return chunk, times, {name: c / (chunk * rounds) for name, c in cpu.items()}, kinds


def verify(app, case_ids):
    from app.cases.audit import verify_chain
    from app.cases.models import Case
    from app.extensions import db
    with app.app_context():
        results = [verify_chain(db.session.get(Case, cid)) for cid in case_ids]
        db.session.remove()
    return all(ok for ok, _ in results), sum(n for _, n in results)


def profile(app, case_ids, n, top):
    import cProfile
    import pstats
    with app.app_context():
        service_loop(case_ids, 100)
        profiler = cProfile.Profile()
        profiler.enable()
        service_loop(case_ids, n)
        profiler.disable()
        from app.extensions import db
        db.session.remove()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main(argv=None):
    parser = common.arg_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=2000, help="timed actions per loop (default %(default)s)")
    parser.add_argument("--cases", type=int, default=20, help="cases acted on round-robin (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved chunks the actions are split into (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed actions per loop first (default %(default)s)")
    parser.add_argument("--profile", action="store_true", help="also cProfile --actions perform_action calls")
    parser.add_argument("--top", type=int, default=30, help="profile rows to print (default %(default)s)")
    args = parser.parse_args(argv)

    app = common.make_app(args.database_url)
    case_ids = setup(app, args.cases)
    load_before = os.getloadavg()[0]
    t0 = perf_counter()
    chunk, times, cpu, kinds = run(app, case_ids, args.actions, args.rounds, args.warmup)
    wall = perf_counter() - t0
    load_after = os.getloadavg()[0]
    valid, events = verify(app, case_ids)

    rate = {name: chunk * len(t) / sum(t) for name, t in times.items()}
    best = {name: chunk / min(t) for name, t in times.items()}
    common.table(f"Statements per action ({TRIGGER}, system actor; BEGIN/COMMIT not counted)",
                 ("loop", "n", "statements"),
                 [(name, len(k), ", ".join(k)) for name, k in kinds.items()])
    common.table(f"Action throughput: {chunk * args.rounds} actions per loop in {args.rounds} interleaved chunks "
                 f"of {chunk}, over {args.cases} cases ({wall:.1f} s; load avg {load_before:.2f} -> {load_after:.2f})",
                 ("loop", "actions/s", "ms/action", "python CPU ms/action", "best chunk/s", "vs raw",
                  "best vs best raw"),
                 [(name, f"{rate[name]:,.0f}", f"{1000 / rate[name]:.2f}", f"{1000 * cpu[name]:.2f}",
                   f"{best[name]:,.0f}", f"{rate[name] / rate['raw']:.0%}", f"{best[name] / best['raw']:.0%}")
                  for name in times])
    common.table("Ratios (all actions / best chunks)", ("ratio", "all", "best", "aim"), [
        ("perform_action / raw", f"{rate['service'] / rate['raw']:.0%}", f"{best['service'] / best['raw']:.0%}",
         ">= 40%"),
        ("bare ORM+transitions / raw", f"{rate['orm'] / rate['raw']:.0%}", f"{best['orm'] / best['raw']:.0%}", ""),
        ("perform_action / bare ORM", f"{rate['service'] / rate['orm']:.0%}", f"{best['service'] / best['orm']:.0%}",
         "service-layer cost"),
    ])
    print(f"\naudit chains of the {len(case_ids)} cases: {'valid' if valid else 'BROKEN'} ({events} events)")
    if args.profile:
        profile(app, case_ids, args.actions, args.top)
    return 0 if valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
