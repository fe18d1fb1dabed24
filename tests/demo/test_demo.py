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
    assert (count(Shop), count(Order)) == (3, 60) and count(Product) >= 20
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"buyer": 6, "seller": 3, "mediator": 2, "admin": 1}
    states = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    assert set(states) == {"created", "paid", "shipped", "delivered", "completed", "closed"}
    assert db.session.execute(select(func.sum(JournalLine.amount_fen))).scalar_one() == 0
    seller2 = db.session.execute(select(User).filter_by(username="seller2")).scalar_one()
    assert seller2.shop.name == "江南布衣坊"

    again = runner.invoke(args=["demo", "load"])
    assert "nothing changed" in again.output and count(Order) == 60

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
