"""SQL statements per GET /api/v1/cases/<id>: counted with SQLAlchemy's
`before_cursor_execute` event on the engine while the Flask test client sends the
request with a bearer token (the token lookup is part of the count).

Cases, all made through the services:
  few events     a complaint just filed about an order (1 event, 1 system message)
  many events    a complaint handed to mediation, assigned, then flagged overdue by the
                 system --events times (each adds an event and a system message)
  refunded       an after-sales refund the seller agreed to, executed and closed, so the
                 case has ledger entries to show
  in execution   the same on a completed order (the money already went to the seller),
                 so the case stays in execution with its tasks to show
Each case is read by its buyer and by the seller; the first request and a repeat are
both counted (the aim is <= 6 statements whatever the size of the case).

    .venv/bin/python -m bench.statements --database-url postgresql+psycopg://postgres@127.0.0.1:5432/tiaojie_bench
"""
try:
    from . import common
except ImportError:  # run as a script: python bench/statements.py
    import common

AIM = 6


def make_order(people, state):
    """An order for the bench listing, walked to `state` (paid, delivered, completed) through the services."""
    from app.auth.models import User
    from app.catalog.models import Product
    from app.extensions import db
    from app.orders.services import create_order, perform_order_action
    buyer, seller = db.session.get(User, people["buyer_id"]), db.session.get(User, people["seller_id"])
    order = create_order(buyer=buyer, items=[(db.session.get(Product, people["product_id"]), 1)], address="杭州市")
    steps = {"paid": ["pay"], "delivered": ["pay", "ship", "deliver"],
             "completed": ["pay", "ship", "deliver", "confirm_receipt"]}[state]
    actors = {"pay": buyer, "ship": seller, "deliver": None, "confirm_receipt": buyer}
    for step in steps:
        data = {"carrier": "sf", "tracking_no": "SF100200300"} if step == "ship" else None
        perform_order_action(order.id, step, actor=actors[step], data=data)
    return order.id


def make_cases(people, n_events):
    from app.auth.models import User
    from app.cases.services import file_complaint, open_case, perform_action
    from app.extensions import db
    buyer, seller, mediator = (db.session.get(User, people[f"{r}_id"]) for r in ("buyer", "seller", "mediator"))

    few = file_complaint(actor=buyer, order_id=make_order(people, "paid"), type="not_as_described",
                         description="few events").id

    many = file_complaint(actor=buyer, order_id=make_order(people, "paid"), type="not_as_described",
                          description="many events").id
    perform_action(many, "respond", actor=seller, data={"statement": "bench"})
    perform_action(many, "assign", actor=mediator)
    for _ in range(max(0, n_events - 3)):
        perform_action(many, "flag_overdue", actor=None)

    refunded = open_case(make_order(people, "delivered"), actor=buyer, kind="refund_only", reason="not_as_described",
                         amount_fen=10_000, description="refunded").id
    perform_action(refunded, "agree", actor=seller)  # execution runs inline after the commit

    # the order's money already went to the seller: the refund cannot come out of escrow
    executing = open_case(make_order(people, "completed"), actor=buyer, kind="refund_only", reason="quality",
                          amount_fen=10_000, description="in execution").id
    perform_action(executing, "agree", actor=seller)
    return {"few events": few, "many events": many, "refunded": refunded, "in execution": executing}


def case_sizes(case_id):
    from sqlalchemy import func, select

    from app.cases.models import Case, CaseEvent, CaseMessage
    from app.extensions import db
    from app.payments.models import JournalEntry
    case = db.session.get(Case, case_id)
    count = lambda model: db.session.execute(  # noqa: E731
        select(func.count()).select_from(model).where(model.case_id == case_id)).scalar_one()
    return f"{case.phase}/{case.state}", count(CaseEvent), count(CaseMessage), count(JournalEntry)


def count_get(app, client, headers, case_id):
    from app.extensions import db
    with app.app_context():
        engine = db.engine
    with common.StatementCounter(engine) as counter:
        response = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET /api/v1/cases/{case_id}: {response.status_code} {response.get_data(as_text=True)}")
    return counter.statements


def main(argv=None):
    parser = common.arg_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200,
                        help="events (and system messages) on the large case (default %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the statements of each request")
    args = parser.parse_args(argv)

    app = common.make_app(args.database_url)
    common.reset_schema(app)
    with app.test_request_context():
        from app.extensions import db
        people = common.make_people()
        cases = make_cases(people, args.events)
        sizes = {name: case_sizes(cid) for name, cid in cases.items()}
        db.session.remove()

    client = app.test_client()
    headers = {}
    for role in ("buyer", "seller"):
        response = client.post("/api/v1/auth/token", json={"username": f"bench-{role}", "password": common.PASSWORD})
        headers[role] = {"Authorization": f"Bearer {response.get_json()['token']}"}

    rows, worst, listings = [], 0, []
    for name, case_id in cases.items():
        state, events, messages, entries = sizes[name]
        for role in ("buyer", "seller"):
            first = count_get(app, client, headers[role], case_id)
            repeat = count_get(app, client, headers[role], case_id)
            worst = max(worst, len(first), len(repeat))
            rows.append((name, state, events, messages, entries, role, len(first), len(repeat)))
            listings.append((f"{name} / {role}", repeat))

    common.table("SQL statements per GET /api/v1/cases/<id> (bearer token; token lookup included)",
                 ("case", "phase/state", "events", "messages", "ledger entries", "viewer", "first", "repeat"), rows)
    print(f"\nmost statements for one request: {worst} (aim <= {AIM}: {'met' if worst <= AIM else 'NOT met'})")
    common.table("What the buyer's request sends", ("case", "statements"),
                 [(label.split(" / ")[0], ", ".join(common.statement_kinds(st)))
                  for label, st in listings if label.endswith("/ buyer")])
    if args.verbose:
        for label, statements in listings:
            print(f"\n-- {label}")
            for sql in statements:
                print("   " + " ".join(sql.split())[:200])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
