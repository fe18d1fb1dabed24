"""Seller service metrics on a known history: every figure of three shops (two in 'home', one in
'electronics') checked against values computed by hand, at the window's edges, with a malicious case
left out, timeout vs agreed vs dispute refunds, the response-time median and the category averages."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.auth.models import User
from app.cases.models import Case
from app.cases.services import open_case, perform_action
from app.catalog.models import Shop
from app.db_tx import transaction
from app.deadlines.services import sweep
from app.extensions import db
from app.metrics.models import ShopDailyStats
from app.metrics.queries import all_shops, category_totals, shop_totals, window_days
from app.metrics.services import rate_case, rebuild_rollups, refresh_rollups
from app.timeutil import local_date

from ..factories import make_order, make_user

NOW = datetime(2026, 11, 30, 12, 0)
TODAY = NOW.date()
M = timedelta(minutes=1)
H = timedelta(hours=1)


def set_category(shop, category):
    with transaction():
        db.session.execute(update(Shop).where(Shop.id == shop.id).values(category=category))


def request(seller, at, *, state="paid", amount=10_000, paid_at=None):
    order, buyer, _ = make_order(seller=seller, state=state, now=at - 10 * M, paid_at=paid_at)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=amount, now=at)
    return case.id, buyer


def act(cid, trigger, actor, at, **data):
    perform_action(cid, trigger, actor=actor, data=data, now=at)


def state(cid):
    db.session.expire_all()
    case = db.session.get(Case, cid)
    return case.phase, case.state


@pytest.fixture
def history(ctx):
    """Days are Beijing days (UTC+8): Beijing's 11-01 starts 10-31 16:00 UTC.
    Shop A (home): 8 paid orders in the window 11-01 … 11-30, one just outside (10-31 13:00 UTC, 21:00 Beijing).
       1 agreed refund (seller agrees after 90 min → bucket 60–120), rated 4
       2 timeout refund (seller silent 48 h → system agrees: a breach)
       3 dispute refund (seller refuses after 10 min → bucket 0–30, escalated: a complaint, mediator
         proposes a partial refund, both accept), rated 2
       4 like 3 but the buyer was found malicious: left out everywhere (its rating too)
       5 counter-offer after 5 h (bucket 240–480), then withdrawn: a response, no refund
       6 outside: order paid 10-31 13:00 UTC, opened 13:20, seller agrees 2.5 h later at 15:50 UTC (23:50
         Beijing, still 10-31): refund and response not counted
       + orders paid 10-31 16:30 UTC (11-01 00:30 Beijing, the first day), 11-15 and 11-30 09:00 (today) without
         cases.
    Shop B (home): 2 paid orders; 1 agreed refund after 20 min (bucket 0–30), rated 5.
    Shop C (electronics): 1 paid order; 1 agreed refund after 3 h (bucket 120–240)."""
    seller_a, seller_b, seller_c = make_user("seller"), make_user("seller"), make_user("seller")
    set_category(seller_c.shop, "electronics")
    mediator = make_user("mediator")
    # history happens in time order: the sweep below (11-12) builds the rollup, later rows come after it
    c6, _ = request(seller_a, datetime(2026, 10, 31, 13, 20), paid_at=datetime(2026, 10, 31, 13, 0))
    act(c6, "agree", seller_a, datetime(2026, 10, 31, 15, 50))
    make_order(seller=seller_a, state="paid", paid_at=datetime(2026, 10, 31, 16, 30))
    t = datetime(2026, 11, 10, 8, 0)

    c1, b1 = request(seller_a, t)
    act(c1, "agree", seller_a, t + 90 * M)
    rate_case(c1, actor=b1, score=4, comment="处理及时", now=t + 2 * H)

    c2, _ = request(seller_a, t + H)
    ids = [u.id for u in (seller_a, seller_b, seller_c, mediator)]
    sweep(now=t + H + 49 * H)  # the sweep lets go of the session's rows: load the actors again
    seller_a, seller_b, seller_c, mediator = (db.session.get(User, i) for i in ids)

    def dispute(at):
        cid, buyer = request(seller_a, at, state="delivered")
        act(cid, "refuse", seller_a, at + 10 * M, reason="与描述一致")
        act(cid, "escalate", buyer, at + H, type="not_as_described")
        act(cid, "respond", seller_a, at + 2 * H, statement="有照片")
        act(cid, "assign", mediator, at + 3 * H)
        act(cid, "start_review", mediator, at + 4 * H)
        act(cid, "propose", mediator, at + 5 * H, remedy="partial_refund", amount_fen=4_000, findings="色差",
            rule="描述不符")
        act(cid, "accept_proposal", buyer, at + 6 * H)
        act(cid, "accept_proposal", seller_a, at + 7 * H)
        return cid, buyer

    c3, b3 = dispute(datetime(2026, 11, 12, 8, 0))
    rate_case(c3, actor=b3, score=2, now=datetime(2026, 11, 13, 8, 0))
    c4, b4 = dispute(datetime(2026, 11, 14, 8, 0))
    rate_case(c4, actor=b4, score=1, now=datetime(2026, 11, 15, 8, 0))
    with transaction():
        db.session.execute(update(Case).where(Case.id == c4).values(buyer_malicious=True))

    c5, b5 = request(seller_a, datetime(2026, 11, 16, 8, 0))
    act(c5, "counter_offer", seller_a, datetime(2026, 11, 16, 13, 0), amount_fen=5_000, note="一半")
    act(c5, "withdraw", b5, datetime(2026, 11, 16, 14, 0))

    for paid in (datetime(2026, 11, 15, 9, 0), datetime(2026, 11, 30, 9, 0)):
        make_order(seller=seller_a, state="paid", paid_at=paid)

    cb, _ = request(seller_b, datetime(2026, 11, 20, 8, 0))
    act(cb, "agree", seller_b, datetime(2026, 11, 20, 8, 20))
    cb_case = db.session.get(Case, cb)
    rate_case(cb, actor=cb_case.buyer, score=5, now=datetime(2026, 11, 21, 8, 0))
    make_order(seller=seller_b, state="paid", paid_at=datetime(2026, 11, 22, 8, 0))

    cc, _ = request(seller_c, datetime(2026, 11, 25, 8, 0))
    act(cc, "agree", seller_c, datetime(2026, 11, 25, 11, 0))

    assert [state(c) for c in (c1, c2, c3, c4, c5, c6, cb, cc)] == [
        ("closed", "resolved")] * 4 + [("closed", "withdrawn")] + [("closed", "resolved")] * 3
    return seller_a.shop_id, seller_b.shop_id, seller_c.shop_id


WINDOW = window_days(TODAY, 30)

SHOP_A = dict(paid_orders=8, complaints=1, refunds=3, dispute_refunds=1, timeout_refunds=1, agreed_refunds=1,
              breaches=1, responses=3, ratings=2, dispute_refund_rate=1 / 8, complaint_rate=1 / 8,
              refund_rate=3 / 8, timeout_refund_rate=1 / 8, agreed_refund_rate=1 / 8, breach_rate=1 / 8,
              rating_average=3.0, median_response_under_minutes=120, median_response_over_minutes=60)
SHOP_B = dict(paid_orders=2, complaints=0, refunds=1, dispute_refunds=0, timeout_refunds=0, agreed_refunds=1,
              breaches=0, responses=1, ratings=1, dispute_refund_rate=0.0, complaint_rate=0.0, refund_rate=0.5,
              timeout_refund_rate=0.0, agreed_refund_rate=0.5, breach_rate=0.0, rating_average=5.0,
              median_response_under_minutes=30, median_response_over_minutes=0)
# pooled over A and B: 10 paid orders; responses in buckets 0–30 (A#3, B), 60–120 (A#1), 240–480 (A#5):
# the 2nd fastest of 4 is in 0–30; ratings 4, 2, 5
HOME = dict(paid_orders=10, complaints=1, refunds=4, dispute_refunds=1, timeout_refunds=1, agreed_refunds=2,
            breaches=1, responses=4, ratings=3, dispute_refund_rate=0.1, complaint_rate=0.1, refund_rate=0.4,
            timeout_refund_rate=0.1, agreed_refund_rate=0.2, breach_rate=0.1, rating_average=11 / 3,
            median_response_under_minutes=30, median_response_over_minutes=0)
ELECTRONICS = dict(paid_orders=1, complaints=0, refunds=1, dispute_refunds=0, timeout_refunds=0, agreed_refunds=1,
                   breaches=0, responses=1, ratings=0, dispute_refund_rate=0.0, complaint_rate=0.0, refund_rate=1.0,
                   timeout_refund_rate=0.0, agreed_refund_rate=1.0, breach_rate=0.0, rating_average=None,
                   median_response_under_minutes=240, median_response_over_minutes=120)


def close(figures, expected):
    got = figures.as_dict()
    assert got == pytest.approx(expected), {k: (got[k], v) for k, v in expected.items() if got[k] != pytest.approx(v)}


def test_the_window_is_the_30_days_ending_today():
    assert WINDOW == (date(2026, 11, 1), date(2026, 11, 30))


def test_every_figure_of_a_known_history_after_a_rebuild(history):
    shop_a, shop_b, shop_c = history
    rebuild_rollups(now=NOW)
    close(shop_totals(shop_a, *WINDOW), SHOP_A)
    close(shop_totals(shop_b, *WINDOW), SHOP_B)
    close(category_totals("home", *WINDOW), HOME)
    close(category_totals("electronics", *WINDOW), ELECTRONICS)
    shops, categories = all_shops(*WINDOW)
    close(shops[shop_a], SHOP_A)
    close(categories["home"], HOME)
    assert set(categories) == {"home", "electronics"}


def test_the_window_edges(history):
    shop_a = history[0]
    rebuild_rollups(now=NOW)
    # a day later 11-01 leaves the window: the order paid 11-01 00:30 Beijing (10-31 16:30 UTC) goes
    assert shop_totals(shop_a, *window_days(TODAY + timedelta(days=1), 30)).paid_orders == 7
    # a day earlier 10-31 comes in: its paid order, its agreed refund and its 150-minute response count,
    # and today's order (11-30 09:00) is not yet there
    earlier = shop_totals(shop_a, *window_days(TODAY - timedelta(days=1), 30)).as_dict()
    assert {k: earlier[k] for k in ("paid_orders", "refunds", "agreed_refunds", "responses")} == {
        "paid_orders": 8, "refunds": 4, "agreed_refunds": 2, "responses": 4}


def test_the_malicious_case_counts_again_once_the_finding_is_lifted(history):
    shop_a = history[0]
    rebuild_rollups(now=NOW)
    with transaction():
        db.session.execute(update(Case).where(Case.buyer_malicious.is_(True))
                           .values(buyer_malicious=False, updated_at=NOW + H))
    refresh_rollups(now=NOW + 2 * H)
    got = shop_totals(shop_a, *WINDOW)
    assert (got.complaints, got.refunds, got.dispute_refunds, got.responses, got.ratings, got.rating_average) == (
        2, 4, 2, 4, 3, 7 / 3)


def test_the_sweeper_keeps_the_rollup_current_and_it_equals_a_rebuild(history):
    shop_a = history[0]
    # the history's sweep already built the rollup (at 11-12): the later cases came after it
    sweep(now=NOW)
    close(shop_totals(shop_a, *WINDOW), SHOP_A)
    close(category_totals("home", *WINDOW), HOME)
    rows = lambda: sorted(tuple(getattr(r, c) for c in ("shop_id", "day", "paid_orders", "refunds", "responses",
                                                        "ratings", "breaches"))
                          for r in db.session.execute(select(ShopDailyStats)).scalars())
    swept = rows()
    rebuild_rollups(now=NOW)
    db.session.expire_all()
    assert rows() == swept


def test_today_is_the_beijing_day_from_16_00_utc(history):
    shop_a = history[0]
    rebuild_rollups(now=NOW)
    assert (local_date(datetime(2026, 11, 30, 15, 59)), local_date(datetime(2026, 11, 30, 16, 0))) == (
        date(2026, 11, 30), date(2026, 12, 1))
    seller = db.session.execute(select(User).where(User.shop_id == shop_a)).scalar_one()
    make_order(seller=seller, state="paid", paid_at=datetime(2026, 11, 30, 16, 0))  # Beijing 12-01 00:00
    later = datetime(2026, 11, 30, 16, 5)
    assert date(2026, 12, 1) in refresh_rollups(now=later)  # the sweeper's "today" is Beijing's
    assert shop_totals(shop_a, *WINDOW).paid_orders == 8  # not on 11-30
    assert shop_totals(shop_a, *window_days(local_date(later), 30)).paid_orders == 8  # 11-01's order left, this came
    assert shop_totals(shop_a, date(2026, 12, 1), date(2026, 12, 1)).paid_orders == 1


def test_no_orders_no_rates(ctx):
    seller = make_user("seller")
    got = shop_totals(seller.shop.id, *WINDOW)
    assert (got.paid_orders, got.refund_rate, got.rating_average, got.median_response_under_minutes) == (
        0, None, None, None)


def test_flask_metrics_rebuild_and_refresh(history, runner):
    shop_a = history[0]
    result = runner.invoke(args=["metrics", "rebuild"])
    assert result.exit_code == 0 and result.output.startswith("rebuilt ")
    assert shop_totals(shop_a, *WINDOW).refunds == 3
    result = runner.invoke(args=["metrics", "refresh"])
    assert result.exit_code == 0 and "recomputed" in result.output
