"""`flask demo load`: the demo marketplace, built through the real services (idempotent)."""
import random
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import DEMO_PASSWORD
from ..auth.models import User
from ..catalog.models import Product, Shop
from ..db_tx import transaction
from ..extensions import db
from ..orders.services import create_order, perform_order_action
from ..payments.services import seller_code, transfer
from ..shipping.models import CARRIERS
from ..timeutil import utcnow
from . import data

demo_cli = AppGroup("demo", help="Demo data.")


def _user(username, name, role, shop=None):
    user = User(username=username, display_name=name, role=role, shop=shop)
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    return user


def load_demo(now=None, seed=20261124):
    """Create the demo marketplace unless it is there; returns False when it already was."""
    if db.session.execute(select(User.id).filter_by(username="admin")).first():
        return False
    now, rnd = now or utcnow(), random.Random(seed)
    with transaction():
        shops = [Shop(name=name, required_deposit_fen=deposit, created_at=now - timedelta(days=400))
                 for name, deposit, _ in data.SHOPS]
        db.session.add_all(shops)
        db.session.flush()
        for i, (shop, (_, deposit, seller_name)) in enumerate(zip(shops, data.SHOPS), start=1):
            _user(f"seller{i}", seller_name, "seller", shop)
            transfer(seller_code(shop.id, "funding"), seller_code(shop.id, "deposit"), deposit,
                     f"shop:{shop.id}:deposit:initial", kind="deposit", memo="shop deposit (保证金)")
        buyers = [_user(f"buyer{i}", name, "buyer") for i, name in enumerate(data.BUYERS, start=1)]
        for i, name in enumerate(data.MEDIATORS, start=1):
            _user(f"mediator{i}", name, "mediator")
        _user("admin", "平台管理员", "admin")
        transfer("platform:capital", "platform:guarantee", 100_000_000, "platform:guarantee:initial",
                 kind="fund", memo="platform guarantee fund (先行垫付)")
        products = [Product(shop=shops[s], title=title, category=cat, price_fen=price, ship_within_hours=hours,
                            service_promises=promises, created_at=now - timedelta(days=200))
                    for s, title, cat, price, hours, promises in data.PRODUCTS]
        db.session.add_all(products)
    plan = [state for state, count in data.ORDER_PLAN.items() for _ in range(count)]
    rnd.shuffle(plan)
    completed_seen = 0
    for n, target in enumerate(plan):
        buyer = buyers[n % len(buyers)]
        shop = shops[rnd.randrange(len(shops))]
        listing = [p for p in products if p.shop_id == shop.id]
        picks = rnd.sample(listing, rnd.choice((1, 1, 1, 2)))
        if target == "completed":
            completed_seen += 1
            age = rnd.uniform(7, 12) if completed_seen % 2 else rnd.uniform(25, 60)  # window: 15 d after completion
        else:
            age = {"created": rnd.uniform(0.05, 0.9), "paid": rnd.uniform(0.2, 1.8), "shipped": rnd.uniform(2, 7),
                   "delivered": rnd.uniform(4, 9), "closed": rnd.uniform(1, 30)}[target]
        _walk_order(buyer, shop, picks, target, now - timedelta(days=age), rnd)
    return True


def _walk_order(buyer, shop, picks, target, start, rnd):
    seller = db.session.execute(select(User).filter_by(shop_id=shop.id)).scalars().first()
    order = create_order(buyer=buyer, items=[(p, rnd.choice((1, 1, 2))) for p in picks],
                         address=rnd.choice(data.ADDRESSES), now=start)
    if target == "created":
        return
    t = start + timedelta(minutes=rnd.randint(2, 50))
    if target == "closed" and rnd.random() < 0.5:
        perform_order_action(order.id, "close", actor=buyer, now=t)
        return
    perform_order_action(order.id, "pay", actor=buyer, now=t)
    if target == "paid":
        return
    if target == "closed":
        perform_order_action(order.id, "close", actor=seller, now=t + timedelta(hours=rnd.randint(1, 20)))
        return
    t += timedelta(hours=rnd.randint(3, 40))
    perform_order_action(order.id, "ship", actor=seller, now=t, data={
        "carrier": rnd.choice(CARRIERS), "tracking_no": f"{rnd.randint(10**11, 10**12 - 1)}"})
    if target == "shipped":
        return
    t += timedelta(hours=rnd.randint(24, 72))
    perform_order_action(order.id, "deliver", actor=None, now=t)
    if target == "delivered":
        return
    perform_order_action(order.id, "confirm_receipt", actor=buyer, now=t + timedelta(hours=rnd.randint(2, 48)))


@demo_cli.command("load")
def load_command():
    """Load the demo marketplace (does nothing if it is already there)."""
    created = load_demo()
    click.echo("Demo data loaded." if created else "Demo data already present; nothing changed.")
    click.echo(f"Demo logins (password '{DEMO_PASSWORD}'): buyer1…buyer6, seller1…seller3 "
               "(sellerN staffs shop N), mediator1, mediator2, admin")
