"""Sweepers refreshing the metrics rollup at the same time: each waits for the other (an advisory lock),
none fails on a duplicate day, and the figures are those of one refresh."""
from app.cases.services import open_case, perform_action
from app.metrics.queries import shop_totals, window_days
from app.metrics.services import rebuild_rollups, refresh_rollups
from app.timeutil import local_date, utcnow

from ..concurrency import race
from ..factories import make_order


def test_four_refreshes_at_once_all_succeed_and_agree(app, ctx):
    order, buyer, seller = make_order(state="paid")
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000)
    perform_action(case.id, "agree", actor=seller)
    rebuild_rollups(now=utcnow())
    now = utcnow()
    results = race(app, [lambda: refresh_rollups(now=now)] * 4)
    assert [r for r in results if isinstance(r, Exception)] == []
    got = shop_totals(seller.shop_id, *window_days(local_date(now), 30))  # the window ends on Beijing's today
    assert (got.paid_orders, got.refunds, got.agreed_refunds, got.responses) == (1, 1, 1, 1)
