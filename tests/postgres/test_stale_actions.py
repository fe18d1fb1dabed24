"""PostgreSQL only: eight retried `agree`s sent for the amount the seller saw, all at once, after
the buyer raised the amount — none applies; the case still asks for the new amount and no
money moved. Then one agree for the current version applies once."""
from sqlalchemy import func, select

from app.auth.models import User
from app.cases.services import open_case, perform_action
from app.errors import Stale
from app.extensions import db
from app.payments.models import JournalEntry

from ..concurrency import race
from ..factories import make_order
from ..readers import case_of, money


def test_eight_concurrent_stale_agrees_after_a_modify_apply_none(app, ctx):
    order, buyer, seller = make_order(state="paid", price_fen=39_900)
    case_id = open_case(order.id, actor=buyer, kind="refund_only", reason="other", amount_fen=100).id
    seen = case_of(case_id).version  # the seller's page shows ¥1
    perform_action(case_id, "refuse", actor=seller, data={"reason": "请先沟通"})
    perform_action(case_id, "modify", actor=buyer, data={"amount_fen": 39_900, "reason": "全额"})
    seller_id, order_id = seller.id, order.id
    entries = db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
    db.session.remove()

    agree = lambda version: perform_action(case_id, "agree", actor=db.session.get(User, seller_id),  # noqa: E731
                                           expected_version=version)
    results = race(app, [lambda: agree(seen)] * 8)

    assert all(isinstance(r, Stale) for r in results), results
    case = case_of(case_id)
    assert (case.state, case.amount_fen) == ("requested", 39_900)
    assert db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one() == entries
    assert money(order_id)["refunded_fen"] == 0

    current = case.version
    db.session.remove()
    results = race(app, [lambda: agree(current)] * 8)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, Stale) for r in results if isinstance(r, Exception)), results
    assert money(order_id)["refunded_fen"] == 39_900
