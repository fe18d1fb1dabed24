"""Real rows, built through the real services."""
import itertools
from contextlib import contextmanager

from sqlalchemy import text
from werkzeug.security import generate_password_hash

from app.auth.models import User
from app.catalog.models import Product, Shop
from app.db_tx import transaction
from app.extensions import db
from app.orders.services import create_order, perform_order_action

_seq = itertools.count(1)
PASSWORD = "secret-pass"
_PASSWORD_HASH = generate_password_hash(PASSWORD)  # hashed once: scrypt per user would dominate test time


def make_shop(name=None):
    with transaction():
        shop = Shop(name=name or f"测试店铺{next(_seq)}", required_deposit_fen=100_000)
        db.session.add(shop)
    return shop


def make_user(role="buyer", shop=None, username=None):
    if role == "seller" and shop is None:
        shop = make_shop()
    with transaction():
        user = User(username=username or f"{role}{next(_seq)}", display_name=f"{role} 测试", role=role, shop=shop)
        user.password_hash = _PASSWORD_HASH
        db.session.add(user)
    return user


def make_product(shop, price_fen=10_000, **kw):
    with transaction():
        product = Product(shop=shop, title=kw.pop("title", f"商品{next(_seq)}"), category=kw.pop("category", "home"),
                          price_fen=price_fen, service_promises=kw.pop("service_promises", ["no_reason_7d"]), **kw)
        db.session.add(product)
    return product


STEPS = {"created": [], "paid": ["pay"], "shipped": ["pay", "ship"], "delivered": ["pay", "ship", "deliver"],
         "completed": ["pay", "ship", "deliver", "confirm_receipt"]}


def make_order(buyer=None, seller=None, state="paid", price_fen=10_000, quantity=1, now=None, paid_at=None):
    """An order walked to `state` through the order services; created and paid at `paid_at` when given
    (an earlier time: shipped at `now`, past its promised time), else at `now`. Returns (order, buyer, seller)."""
    buyer = buyer or make_user("buyer")
    seller = seller or make_user("seller")
    product = make_product(seller.shop, price_fen)
    order = create_order(buyer=buyer, items=[(product, quantity)], address="杭州市", now=paid_at or now)
    actors = {"pay": buyer, "ship": seller, "deliver": None, "confirm_receipt": buyer}
    for step in STEPS[state]:
        data = {"carrier": "sf", "tracking_no": "SF100200300"} if step == "ship" else None
        perform_order_action(order.id, step, actor=actors[step], data=data, now=(paid_at or now) if step == "pay" else now)
    return db.session.get(type(order), order.id), buyer, seller


APPEND_ONLY = ("audit_anchors", "admin_events")  # tables whose triggers refuse UPDATE and DELETE


@contextmanager
def anchor_triggers_off(conn, tables=APPEND_ONLY):
    """Set aside the triggers that keep the audit logs insert-only, inside `conn`'s transaction, as only the
    schema's owner can: PostgreSQL disables them, SQLite drops and recreates them."""
    postgres = conn.dialect.name == "postgresql"
    triggers = [] if postgres else conn.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_anchors', 'admin_events')"
    )).all()
    for table in tables if postgres else ():
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    for name, _ in triggers:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for table in tables if postgres else ():
        conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    for _, sql in triggers:
        conn.execute(text(sql))


def empty_tables(conn):
    """Delete every row, newest tables first (the anchor log's triggers set aside)."""
    with anchor_triggers_off(conn):
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
