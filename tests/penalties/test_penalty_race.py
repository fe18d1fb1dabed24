"""Two rulings' points tasks for one shop run at the same moment (PostgreSQL, two connections): each locks
the shop before it counts the points in force, so 6 + 6 = 12 crosses the threshold exactly once."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.catalog.models import Shop
from app.execution import services as execution
from app.execution.models import ExecutionTask, Penalty
from app.extensions import db
from app.timeutil import utcnow

from ..concurrency import race
from ..execution.test_tasks import mediated
from ..factories import make_order, make_user


def test_two_points_tasks_at_once_restrict_the_shop_once(app, ctx, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: run with --db=postgres (SQLite serialises writers)")
    jobs = []
    monkeypatch.setattr(execution, "enqueue", lambda name, *args: jobs.append(args[0]))  # the test runs them
    t0 = utcnow().replace(microsecond=0)
    seller, buyer = make_user("seller"), make_user("buyer")
    cases = [mediated(make_order(buyer=buyer, seller=seller, state="delivered", now=t0 - timedelta(days=1))[0],
                      buyer, seller, t0, remedy="dismiss", penalties=[{"kind": "points", "points": 6}])
             for _ in range(2)]
    tasks = db.session.execute(select(ExecutionTask.id).where(ExecutionTask.case_id.in_(cases))).scalars().all()
    assert len(tasks) == 2 and sorted(jobs) == sorted(tasks)
    shop_id = seller.shop_id
    db.session.remove()

    results = race(app, [lambda i=i: execution.run_task(i, t0) and None for i in tasks])
    assert results == [None, None]
    rows = db.session.execute(select(Penalty.kind).where(Penalty.shop_id == shop_id)
                              .order_by(Penalty.id)).scalars().all()
    assert rows == ["points", "points", "restrict"]
    shop = db.session.get(Shop, shop_id)
    assert (shop.points, shop.restricted_until) == (12, t0 + timedelta(days=7))
