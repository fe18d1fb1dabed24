from sqlalchemy import func, select

from app.auth.models import User
from app.catalog.models import Product, Shop
from app.extensions import db
from app.orders.models import Order
from app.payments.models import JournalLine


def test_demo_load_builds_the_marketplace_once(runner, ctx, client):
    result = runner.invoke(args=["demo", "load"])
    assert "Demo data loaded." in result.output and "tiaojie-demo" in result.output
    count = lambda model: db.session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
    # 60 current orders, and 90 days of history: one order per shop every three days (29 × 3)
    assert (count(Shop), count(Order)) == (3, 147) and count(Product) >= 20
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"buyer": 6, "seller": 3, "mediator": 2, "admin": 1}
    states = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    assert set(states) == {"created", "paid", "shipped", "delivered", "completed", "closed"}
    assert db.session.execute(select(func.sum(JournalLine.amount_fen))).scalar_one() == 0
    seller2 = db.session.execute(select(User).filter_by(username="seller2")).scalar_one()
    assert seller2.shop.name == "江南布衣坊"

    again = runner.invoke(args=["demo", "load"])
    assert "nothing changed" in again.output and count(Order) == 147

    response = client.post("/login", data={"username": "buyer1", "password": "tiaojie-demo"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "我的订单" in html and "TB" in html


def test_demo_has_completed_orders_inside_the_after_sales_window(ctx, runner):
    from datetime import timedelta

    from app.rules import get_rules
    from app.timeutil import utcnow
    runner.invoke(args=["demo", "load"])
    window = timedelta(hours=get_rules()["after_sales_window_hours"])
    completed = db.session.execute(select(Order.completed_at).filter_by(status="completed")).scalars().all()
    inside = [c for c in completed if utcnow() - c <= window]
    assert 0 < len(inside) < len(completed)


def test_demo_history_ends_cases_every_way(ctx, runner):
    """The dashboards have a past to show: cases agreed by the seller, agreed by the system on the seller's
    silence, withdrawn, ruled against the seller with penalty points, and dismissed."""
    from app.cases.models import Case, CaseEvent
    from app.execution.models import Penalty
    runner.invoke(args=["demo", "load"])
    closed = dict(db.session.execute(select(Case.state, func.count()).where(Case.phase == "closed")
                                     .group_by(Case.state)).all())
    assert closed["resolved"] >= 20 and closed["dismissed"] >= 3 and closed["withdrawn"] >= 3
    silence = db.session.execute(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.trigger == "agree", CaseEvent.actor_role == "system")).scalar_one()
    by_seller = db.session.execute(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.trigger == "agree", CaseEvent.actor_role == "seller")).scalar_one()
    assert silence >= 5 and by_seller >= 5
    points = db.session.execute(select(Penalty.shop_id, func.sum(Penalty.points)).group_by(Penalty.shop_id)).all()
    assert len(points) == 3 and all(p > 0 for _, p in points)
    from app.cases.models import CaseRating
    from app.metrics.models import ShopDailyStats
    assert db.session.execute(select(func.count()).select_from(CaseRating)).scalar_one() >= 10
    assert db.session.execute(select(func.count()).select_from(ShopDailyStats)).scalar_one() > 0  # rollup built
