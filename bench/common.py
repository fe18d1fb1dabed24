"""Shared set-up for the benchmarks: the app on the benchmark database, a clean schema
from the migrations, a few real users/shop/listing rows, cases in a chosen state, a
statement counter and a small table printer.

The benchmarks print figures; they never assert on time."""
import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/tiaojie_bench"
PASSWORD = "bench-pass"


def arg_parser(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL,
                        help="SQLAlchemy URL of a database the benchmark may wipe "
                             "(default: $DATABASE_URL or %(default)s)")
    return parser


def make_app(database_url, **overrides):
    """The app (test config: no CSRF) on `database_url`; its instance dir is a temp dir."""
    os.environ.setdefault("TIAOJIE_INSTANCE", tempfile.mkdtemp(prefix="tiaojie-bench-"))
    from app import create_app
    return create_app("test", SQLALCHEMY_DATABASE_URI=database_url, **overrides)


def ensure_database(engine):
    """Create the benchmark database when it does not exist yet (needs CREATEDB)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    try:
        with engine.connect():
            return
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    name = engine.url.database
    admin = create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    print(f"created database {name}")


def reset_schema(app):
    """Drop everything in `public` and build the schema with Flask-Migrate's upgrade()."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            raise SystemExit(f"the benchmarks need PostgreSQL, not {db.engine.dialect.name}")
        ensure_database(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
        db.engine.dispose()


def psycopg_dsn(app):
    """The engine URL as a libpq connection string for a raw psycopg connection."""
    from app.extensions import db
    with app.app_context():
        return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


# ---------------------------------------------------------------- rows

def make_people(tag="bench"):
    """A shop with its seller, a buyer, a mediator and a listing (real rows, committed)."""
    from app.auth.models import User
    from app.catalog.models import Product, Shop
    from app.db_tx import transaction
    from app.extensions import db
    with transaction():
        shop = Shop(name=f"{tag} 店铺", required_deposit_fen=100_000)
        db.session.add(shop)
        users = {}
        for role in ("buyer", "seller", "mediator"):
            user = User(username=f"{tag}-{role}", display_name=f"{role} {tag}", role=role,
                        shop=shop if role == "seller" else None)
            user.set_password(PASSWORD)
            db.session.add(user)
            users[role] = user
        product = Product(shop=shop, title=f"{tag} 商品", category="home", price_fen=10_000,
                          service_promises=["no_reason_7d"])
        db.session.add(product)
    return {"shop_id": shop.id, "product_id": product.id, **{f"{r}_id": u.id for r, u in users.items()}}


def make_complaint(people, now=None):
    """A complaint about the listing, filed through the service (awaiting the seller)."""
    from app.auth.models import User
    from app.cases.services import file_complaint
    from app.extensions import db
    buyer = db.session.get(User, people["buyer_id"])
    return file_complaint(actor=buyer, listing_id=people["product_id"], type="not_as_described",
                          description="bench", now=now).id


def make_assigned_cases(people, n):
    """`n` complaint cases walked through the services to mediation/assigned: the state in
    which the system's `flag_overdue` may be fired again and again."""
    from app.auth.models import User
    from app.cases.services import perform_action
    from app.extensions import db
    seller = db.session.get(User, people["seller_id"])
    mediator = db.session.get(User, people["mediator_id"])
    ids = []
    for _ in range(n):
        case_id = make_complaint(people)
        perform_action(case_id, "respond", actor=seller, data={"statement": "bench"})
        perform_action(case_id, "assign", actor=mediator)
        ids.append(case_id)
    return ids


# ---------------------------------------------------------------- measuring

class StatementCounter:
    """Counts (and keeps) the SQL statements the engine sends, via before_cursor_execute."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event
        event.remove(self.engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self):
        return len(self.statements)


def statement_kinds(statements):
    """'SELECT … FOR UPDATE, UPDATE cases, INSERT case_events, …' for a list of statements."""
    out = []
    for sql in statements:
        words = " ".join(sql.split()).split(" ")
        verb = words[0].upper()
        if verb == "SELECT":
            table = words[words.index("FROM") + 1] if "FROM" in words else "?"
            label = f"SELECT {table}" + (" FOR UPDATE" if "FOR UPDATE" in sql.upper() else "")
        elif verb == "UPDATE":
            label = f"UPDATE {words[1]}"
        elif verb == "INSERT":
            label = f"INSERT {words[2]}"
        else:
            label = " ".join(words[:2])
        out.append(label)
    return out


def table(title, header, rows):
    """Print a small fixed-width table."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    numeric = [all(r[i][:1].isdigit() or r[i][:1] in "-+" for r in cells[1:]) for i in range(len(header))]

    def line(row):
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)).rstrip()
    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
    sys.stdout.flush()
