"""`flask demo load`: the demo marketplace, built through the real services (idempotent)."""
import random
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..auth.models import User
from ..catalog.models import Product, ReturnAddress, Shop
from ..db_tx import transaction
from ..extensions import db
from ..cases.models import Case
from ..cases.services import open_case, perform_action
from ..chat.services import post_order_message
from ..metrics.services import rate_case, rebuild_rollups
from ..orders.models import Order
from ..orders.services import create_order, perform_order_action
from ..rules import get_rules
from ..payments.services import seller_code, transfer
from ..shipping.models import CARRIERS
from ..timeutil import utcnow
from . import data
from .data import DEMO_PASSWORD

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
        shops = [Shop(name=name, required_deposit_fen=deposit, category=category,
                      created_at=now - timedelta(days=400))
                 for (name, deposit, _), category in zip(data.SHOPS, data.SHOP_CATEGORIES)]
        db.session.add_all(shops)
        db.session.flush()
        for i, (shop, (_, deposit, seller_name)) in enumerate(zip(shops, data.SHOPS), start=1):
            _user(f"seller{i}", seller_name, "seller", shop)
            contact, phone, address = data.RETURN_ADDRESSES[i - 1]
            db.session.add(ReturnAddress(shop_id=shop.id, contact=contact, phone=phone, address=address,
                                         is_default=True, created_at=now - timedelta(days=400),
                                         updated_at=now - timedelta(days=400)))
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
    _demo_history(shops, buyers, products, now, rnd)
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
    _demo_chats_and_cases(now)
    rebuild_rollups(now=now)  # the service dashboards read the daily rollup; the sweeper keeps it current
    return True


def _demo_chats_and_cases(now):
    """Order chats on a few orders, and cases in several phases, so every page has something to show."""
    orders = {status: db.session.execute(select(Order).filter_by(status=status).order_by(Order.id)).scalars().all()
              for status in ("paid", "shipped", "delivered", "completed")}
    window = timedelta(hours=get_rules()["after_sales_window_hours"])
    recent = [o for o in orders["completed"] if now - o.completed_at < window - timedelta(days=2)]
    picks = [orders["delivered"][0], orders["delivered"][1], orders["shipped"][0], recent[0], orders["delivered"][2]]
    for order, lines in zip(picks, data.CHATS):
        buyer, seller = order.buyer, _seller(order)
        for n, body in enumerate(lines):
            post_order_message(order.id, actor=buyer if n % 2 == 0 else seller, body=body,
                               now=now - timedelta(hours=30 - 2 * n))
    t = now - timedelta(hours=20)
    # 1. seed flow: refused, escalated, seller responded → waiting in the mediation queue
    order = picks[0]
    case = open_case(order.id, actor=order.buyer, kind="refund_only", reason="not_as_described",
                     amount_fen=order.total_fen, description="颜色与详情页严重不符，申请退款", now=t)
    perform_action(case.id, "refuse", actor=_seller(order), data={"reason": "商品为实物拍摄，色差在合理范围内"}, now=t)
    perform_action(case.id, "escalate", actor=order.buyer, data={"type": "not_as_described",
                                                                 "description": "卖家拒绝退款，申请平台介入"}, now=t)
    perform_action(case.id, "respond", actor=_seller(order), data={"statement": "已上传发货前实拍图"}, now=t)
    # 2. a return waiting for the seller's answer
    order = picks[2]
    open_case(order.id, actor=order.buyer, kind="return_refund", reason="quality",
              amount_fen=order.total_fen, description="用了一次就坏了，申请退货退款", now=now - timedelta(hours=5))
    # 3. a counter-offer on a completed order inside the after-sales window
    order = picks[3]
    case = open_case(order.id, actor=order.buyer, kind="compensation", reason="not_as_described",
                     amount_fen=max(order.total_fen // 2, 100), description="有瑕疵，申请部分补偿", now=t)
    perform_action(case.id, "counter_offer", actor=_seller(order),
                   data={"amount_fen": max(order.total_fen // 5, 50), "note": "给您补偿两成，您看可以吗"}, now=t)
    # 4. a case mediator1 is working on: evidence requested from the seller
    order = picks[1]
    case = open_case(order.id, actor=order.buyer, kind="refund_only", reason="not_received",
                     amount_fen=order.total_fen, description="物流显示签收但本人未收到", now=t)
    perform_action(case.id, "refuse", actor=_seller(order), data={"reason": "物流显示已签收"}, now=t)
    perform_action(case.id, "escalate", actor=order.buyer, data={"type": "not_as_described"}, now=t)
    perform_action(case.id, "respond", actor=_seller(order), data={"statement": "附签收记录"}, now=t)
    mediator = db.session.execute(select(User).filter_by(username="mediator1")).scalar_one()
    perform_action(case.id, "assign", actor=mediator, now=t)
    perform_action(case.id, "request_evidence", actor=mediator,
                   data={"party": "seller", "note": "请提供快递员签收照片或驿站记录"}, now=now - timedelta(hours=2))
    # 5. an unshipped order refunded by agreement: executed and resolved
    order = orders["paid"][0]
    case = open_case(order.id, actor=order.buyer, kind="refund_only", reason="other",
                     amount_fen=order.total_fen, description="拍错了，不想要了", now=t)
    perform_action(case.id, "agree", actor=_seller(order), now=t)


def _demo_history(shops, buyers, products, now, rnd):
    """Ninety days of finished business before today, so the service dashboards, the overview and the
    reason analysis have something to show: orders completed in each shop every few days, and after-sales
    cases that ended every way a case ends — agreed by the seller in time, agreed by the system on the
    seller's silence (超时退款), withdrawn, and mediated: a refund ruled against the seller with penalty
    points, a claim dismissed."""
    mediators = db.session.execute(select(User).filter_by(role="mediator").order_by(User.id)).scalars().all()
    outcomes = ["agreed", "none", "timeout", "none", "agreed", "withdrawn", "none", "ruled", "none", "dismissed"]
    for n, day in enumerate(range(88, 2, -3)):
        for s, shop in enumerate(shops):
            start = now - timedelta(days=day, hours=rnd.randint(0, 20))
            listing = [p for p in products if p.shop_id == shop.id]
            order = _walk_order(buyers[(n + s) % len(buyers)], shop, rnd.sample(listing, 1), "delivered", start, rnd)
            outcome = outcomes[(n + 2 * s) % len(outcomes)]
            if outcome != "none":
                _history_case(order, outcome, mediators[(n + s) % len(mediators)], rnd)


def _history_case(order, outcome, mediator, rnd):
    t = order.delivered_at + timedelta(hours=rnd.randint(2, 30))
    reason = rnd.choice(("not_as_described", "quality", "damaged", "wrong_item", "missing_parts"))
    case = open_case(order.id, actor=order.buyer, kind="refund_only", reason=reason, amount_fen=order.total_fen,
                     description="收到的商品有问题，申请退款", now=t)
    seller = _seller(order)
    if outcome == "agreed":
        perform_action(case.id, "agree", actor=seller, now=t + timedelta(hours=rnd.randint(1, 30)))
    elif outcome == "timeout":  # the seller stays silent: the system agrees when the deadline passes
        perform_action(case.id, "agree", actor=None, now=case.due_at + timedelta(minutes=5))
    elif outcome == "withdrawn":
        perform_action(case.id, "withdraw", actor=order.buyer, now=t + timedelta(hours=6))
    else:
        t += timedelta(hours=rnd.randint(2, 20))
        perform_action(case.id, "refuse", actor=seller, data={"reason": "商品出库前已检查，无质量问题"}, now=t)
        perform_action(case.id, "escalate", actor=order.buyer, data={"type": "quality", "description": "卖家拒绝，申请平台介入"},
                       now=t + timedelta(hours=3))
        perform_action(case.id, "respond", actor=seller, data={"statement": "已提供出库检验记录"}, now=t + timedelta(hours=20))
        t += timedelta(days=1, hours=rnd.randint(1, 12))
        perform_action(case.id, "assign", actor=mediator, now=t)
        perform_action(case.id, "start_review", actor=mediator, now=t + timedelta(hours=2))
        if outcome == "ruled":
            decision = {"remedy": "full_refund", "amount_fen": order.total_fen, "rule": "《淘宝争议处理规则》第十八条",
                        "findings": "买家照片显示商品破损，卖家未能证明发货时完好", "penalties": [{"kind": "points", "points": 2}]}
        else:
            decision = {"remedy": "dismiss", "amount_fen": 0, "rule": "《淘宝争议处理规则》第二十条",
                        "findings": "买家未能提供商品存在问题的证据", "penalties": []}
        perform_action(case.id, "propose", actor=mediator, data=decision, now=t + timedelta(hours=8))
        if outcome == "ruled":
            for party in (order.buyer, seller):
                perform_action(case.id, "accept_proposal", actor=party, now=t + timedelta(hours=20))
        else:
            perform_action(case.id, "reject_proposal", actor=order.buyer, data={"reason": "不认可"},
                           now=t + timedelta(hours=20))
            perform_action(case.id, "rule", actor=mediator, data=decision, now=t + timedelta(days=1, hours=4))
    _rate(case.id, order.buyer, outcome, rnd)


RATINGS = {"agreed": (5, "卖家处理很快，满意"), "timeout": (2, "卖家一直不回复，最后系统自动退款"),
           "ruled": (3, "小二处理公正，但等了好几天"), "dismissed": (1, "不认可处理结果")}


def _rate(case_id, buyer, outcome, rnd):
    """Most buyers rate how a finished case was handled (售后服务评价), a few days after it closed."""
    case = db.session.get(Case, case_id)
    if outcome in RATINGS and case.phase == "closed" and rnd.random() < 0.8:
        score, comment = RATINGS[outcome]
        at = min(case.closed_at + timedelta(hours=rnd.randint(2, 72)), utcnow())
        rate_case(case.id, actor=buyer, score=score, comment=comment, now=at)


def _seller(order):
    return db.session.execute(select(User).filter_by(shop_id=order.shop_id).order_by(User.id)).scalars().first()


def _walk_order(buyer, shop, picks, target, start, rnd):
    seller = db.session.execute(select(User).filter_by(shop_id=shop.id)).scalars().first()
    order = create_order(buyer=buyer, items=[(p, rnd.choice((1, 1, 2))) for p in picks],
                         address=rnd.choice(data.ADDRESSES), now=start)
    if target == "created":
        return order
    t = start + timedelta(minutes=rnd.randint(2, 50))
    if target == "closed" and rnd.random() < 0.5:
        perform_order_action(order.id, "close", actor=buyer, now=t)
        return order
    perform_order_action(order.id, "pay", actor=buyer, now=t)
    if target == "paid":
        return order
    if target == "closed":
        perform_order_action(order.id, "close", actor=seller, now=t + timedelta(hours=rnd.randint(1, 20)))
        return order
    t += timedelta(hours=rnd.randint(3, 40))
    perform_order_action(order.id, "ship", actor=seller, now=t, data={
        "carrier": rnd.choice(CARRIERS), "tracking_no": f"{rnd.randint(10**11, 10**12 - 1)}"})
    if target == "shipped":
        return order
    t += timedelta(hours=rnd.randint(24, 72))
    perform_order_action(order.id, "deliver", actor=None, now=t)
    if target == "delivered":
        return order
    perform_order_action(order.id, "confirm_receipt", actor=buyer, now=t + timedelta(hours=rnd.randint(2, 48)))
    return order


@demo_cli.command("load")
def load_command():
    """Load the demo marketplace (does nothing if it is already there)."""
    created = load_demo()
    click.echo("Demo data loaded." if created else "Demo data already present; nothing changed.")
    click.echo(f"Demo logins (password '{DEMO_PASSWORD}'): buyer1…buyer6, seller1…seller3 "
               "(sellerN staffs shop N), mediator1, mediator2, admin")
