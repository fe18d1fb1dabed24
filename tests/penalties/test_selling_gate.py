"""The attack review's findings on penalties (issue 13): a restricted or blacklisted shop takes no payment
for an order placed before the penalty (409 shop_not_selling, the money stays with the buyer); the order and
the payment check the shop's standing inside their transaction, with the shop row locked, so they cannot
slip past a penalty being applied at the same moment; one restriction lasts at most 365 days whatever the
rules table says (no date overflow); a late-shipment claim with that compensation switched off says so."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text as sql, update

from app.admin import services as admin
from app.cases.services import open_case
from app.catalog.models import Shop
from app.db_tx import lock, transaction
from app.errors import Invalid, ShopNotSelling
from app.execution.models import Penalty
from app.extensions import db
from app.orders.services import create_order, perform_order_action
from app.payments.services import balance, buyer_funding_code
from app.penalties.services import remove_blacklist
from app.timeutil import utcnow
from app.web import local_time
from workflows.penalties import MAX_RESTRICT_DAYS, restriction_scale, thresholds_crossed
from workflows.rules import DEFAULTS

from ..api.helpers import assert_error, token_for
from ..concurrency import race
from ..execution.test_tasks import mediated
from ..factories import make_order, make_product, make_user
from ..readers import assert_money_ok, fresh, order_of
from .test_penalty_pages import text

SECOND, DAY = timedelta(seconds=1), timedelta(days=1)


@pytest.fixture
def t0():
    return utcnow().replace(microsecond=0)


def placed(t0):
    """An order placed (not paid) from a shop in good standing, and a delivered order of the same shop for
    the complaint that penalises it."""
    seller, buyer = make_user("seller"), make_user("buyer")
    earlier = make_order(buyer=buyer, seller=seller, state="delivered", now=t0 - DAY)[0]
    order = create_order(buyer=buyer, items=[(make_product(seller.shop, 5_000), 1)], address="杭州", now=t0)
    return order, earlier, buyer, seller


def test_an_order_of_a_shop_restricted_after_it_was_placed_cannot_be_paid_until_the_end(ctx, t0, runner):
    order, earlier, buyer, seller = placed(t0)
    funds = balance(buyer_funding_code(buyer.id))
    mediated(earlier, buyer, seller, t0 + SECOND, remedy="dismiss", penalties=[{"kind": "restrict", "days": 7}])
    end = t0 + SECOND + 7 * DAY
    with pytest.raises(ShopNotSelling) as err:
        perform_order_action(order.id, "pay", actor=buyer, now=end - SECOND)
    assert (err.value.status, err.value.code, err.value.details["shop"].code) == (409, "shop_not_selling",
                                                                                  "shop_restricted")
    assert (order_of(order.id).status, order_of(order.id).paid_at) == ("created", None)
    assert balance(buyer_funding_code(buyer.id)) == funds               # no money moved into escrow
    perform_order_action(order.id, "pay", actor=buyer, now=end)          # the restriction is over
    assert order_of(order.id).status == "paid"
    assert_money_ok()
    result = runner.invoke(args=["payments", "verify"])
    assert result.exit_code == 0 and result.output.startswith("ok: "), result.output


def test_an_order_of_a_blacklisted_shop_is_refused_at_pay_time_and_the_buyer_may_close_it(ctx, t0):
    """Decision: blacklisting leaves the shop's unpaid orders as they are (no money is held on them; a
    blacklist an admin removes lets them be paid again); paying is refused while it lasts."""
    order, earlier, buyer, seller = placed(t0)
    other = create_order(buyer=buyer, items=[(make_product(seller.shop, 2_000), 1)], now=t0)
    funds = balance(buyer_funding_code(buyer.id))
    mediated(earlier, buyer, seller, t0, remedy="dismiss", penalties=[{"kind": "blacklist"}])
    assert order_of(order.id).status == "created"
    with pytest.raises(ShopNotSelling) as err:
        perform_order_action(order.id, "pay", actor=buyer, now=t0 + DAY)
    assert err.value.details["shop"].code == "shop_blacklisted"
    assert balance(buyer_funding_code(buyer.id)) == funds
    perform_order_action(order.id, "close", actor=buyer, now=t0 + DAY)   # the buyer drops it
    assert order_of(order.id).status == "closed"
    remove_blacklist(actor=make_user("admin"), shop_id=seller.shop_id, reason="复核：证据不足", now=t0 + 2 * DAY)
    perform_order_action(other.id, "pay", actor=buyer, now=t0 + 2 * DAY)
    assert order_of(other.id).status == "paid"
    assert_money_ok()


def test_the_buyer_pressing_pay_on_a_restricted_shops_order_reads_why_on_the_order_page(client, login_as, ctx, t0):
    order, earlier, buyer, seller = placed(t0 - timedelta(hours=1))
    mediated(earlier, buyer, seller, t0 - timedelta(hours=1), remedy="dismiss",
             penalties=[{"kind": "restrict", "days": 7}])
    login_as(buyer)
    page = f"/orders/{order.id}"
    response = client.get(page)
    until = local_time(t0 - timedelta(hours=1) + 7 * DAY)
    assert f"该店铺受处罚限制至 {until}：届时起可以付款，也可以现在关闭订单。" in text(response)
    html = response.get_data(as_text=True)   # no Pay button that cannot work; closing the order is offered
    assert f'action="{page}/actions/pay"' not in html and f'action="{page}/actions/close"' in html
    # a buyer who opened the page before the restriction still sends the form: refused, with the reason
    response = client.post(f"{page}/actions/pay", headers={"Referer": f"http://localhost{page}"},
                           follow_redirects=True)
    assert response.request.path == page
    assert "该店铺受处罚限制至" in text(response)
    assert order_of(order.id).status == "created"


def _hold_shop_then(app, shop_id, change, t0, works):
    """In one connection lock the shop, apply `change` and commit only once `works` (run at the same time in
    other connections) are waiting on that lock; returns their results."""
    locked, seen = threading.Event(), {"waiting": False}

    def holder():
        with transaction():
            change(lock(Shop, shop_id))
            locked.set()
            for _ in range(200):  # until another connection waits for a row lock (at most ~10 s)
                with db.engine.connect() as probe:
                    if probe.execute(sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                         "AND datname = current_database()")).scalar():
                        seen["waiting"] = True
                        break
                threading.Event().wait(0.05)

    def after(work):
        def run():
            locked.wait()
            return work()
        return run
    results = race(app, [holder] + [after(w) for w in works])
    return seen["waiting"], results[1:]


def test_an_order_and_a_payment_wait_for_a_penalty_being_applied_and_are_refused(app, ctx, t0):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: run with --db=postgres (SQLite serialises writers)")
    order, earlier, buyer, seller = placed(t0)
    listing = make_product(seller.shop, 3_000)
    ids = {"order": order.id, "buyer": buyer.id, "listing": listing.id, "shop": seller.shop_id}
    db.session.remove()

    def restrict(shop):
        shop.restricted_until = t0 + 7 * DAY

    def pay():
        from app.auth.models import User
        return perform_order_action(ids["order"], "pay", actor=db.session.get(User, ids["buyer"]), now=t0)

    def buy():
        from app.auth.models import User
        from app.catalog.models import Product
        return create_order(buyer=db.session.get(User, ids["buyer"]),
                            items=[(db.session.get(Product, ids["listing"]), 1)], now=t0)

    waited, results = _hold_shop_then(app, ids["shop"], restrict, t0, [pay])
    assert waited and isinstance(results[0], ShopNotSelling), results
    waited, results = _hold_shop_then(app, ids["shop"], lambda shop: setattr(shop, "is_blacklisted", True),
                                      t0, [buy])
    assert waited and isinstance(results[0], ShopNotSelling), results
    assert order_of(ids["order"]).status == "created"
    assert_money_ok()


def test_a_restriction_lasts_at_most_365_days_whatever_the_rules_say():
    rules = dict(DEFAULTS, penalty_restrict_points=1, penalty_blacklist_points=10_000, penalty_restrict_days=3650)
    assert MAX_RESTRICT_DAYS == 365
    assert thresholds_crossed(9_000, 9_048, rules) == [("restrict", 365)]
    assert thresholds_crossed(0, 1, dict(rules, penalty_restrict_days=7)) == [("restrict", 7)]
    assert thresholds_crossed(36, 48, dict(DEFAULTS)) == [("blacklist", None)]
    assert restriction_scale(dict(DEFAULTS)) == [(12, 7), (24, 14), (36, 21)]
    assert restriction_scale(rules) == [(1, 365)]  # the scale stops at the cap (not 9,999 rows)
    assert restriction_scale(dict(rules, penalty_restrict_days=100)) == [(1, 100), (2, 200), (3, 300), (4, 365)]


def test_points_far_over_the_threshold_with_the_largest_rules_restrict_365_days_and_never_overflow(client, login_as, ctx,
                                                                                                  t0):
    boss = make_user("admin")
    for key, value in (("penalty_blacklist_points", "10000"), ("penalty_restrict_points", "1"),
                       ("penalty_restrict_days", "3650")):
        admin.update_rule(key, value, actor=boss, reason="攻击评审：最大值")
    seller, buyer = make_user("seller"), make_user("buyer")
    first, order = (make_order(buyer=buyer, seller=seller, state="delivered", now=t0 - 2 * DAY)[0] for _ in "ab")
    mediated(first, buyer, seller, t0 - DAY, remedy="dismiss", penalties=[{"kind": "points", "points": 48}])
    with transaction():  # as if the shop had 9,000 points in force: 3,650 × 9,048 days would pass year 9999
        db.session.execute(update(Penalty).where(Penalty.shop_id == seller.shop_id, Penalty.kind == "points")
                           .values(points=9_000))
    mediated(order, buyer, seller, t0, remedy="dismiss", penalties=[{"kind": "points", "points": 48}])
    shop = fresh(Shop, seller.shop_id)
    assert shop.restricted_until == t0 + 365 * DAY
    rows = db.session.execute(select(Penalty.kind, Penalty.until).where(Penalty.shop_id == seller.shop_id)
                              .order_by(Penalty.id)).all()
    assert [tuple(r) for r in rows] == [("points", None), ("restrict", t0 - DAY + 365 * DAY),
                                        ("points", None), ("restrict", t0 + 365 * DAY)]
    login_as(seller)
    page = text(client.get(f"/shops/{seller.shop_id}/standing"))
    assert "满 1 分：分别限制经营 365 天；满 10000 分：列入黑名单（查封）。" in page, page
    assert "之后每档同样限制 365 天：一次限制最长不超过此天数。" in page


def test_a_late_shipment_claim_with_that_compensation_switched_off_says_so(client, ctx, t0):
    boss = make_user("admin")
    for key in ("late_shipment_min_fen", "late_shipment_percent", "late_shipment_max_fen"):
        admin.update_rule(key, "0", actor=boss, reason="暂停延迟发货赔付")
    order, buyer, seller = make_order(state="paid", price_fen=16_000, now=t0 - timedelta(hours=60))
    perform_order_action(order.id, "ship", actor=seller, data={"carrier": "sf", "tracking_no": "SF1"},
                         now=t0 - timedelta(hours=10))           # 50 hours after paying: late
    with pytest.raises(Invalid) as err:
        open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=800, now=t0)
    assert err.value.details["reason"].code == "late_shipment_off"
    assert err.value.message == "Late-shipment compensation is switched off on this platform"
    error = assert_error(client.post(f"/api/v1/orders/{order.id}/cases", headers=token_for(client, buyer), json={
        "kind": "compensation", "reason": "late_shipment", "amount_fen": 800}), 422, "invalid")
    assert (error["message"], error["details"]) == ("Late-shipment compensation is switched off on this platform",
                                                    {"reason": "late-shipment compensation is switched off"})
    # on time with the compensation on: the old reason still holds
    on_time, buyer2, seller2 = make_order(state="paid", now=t0 - timedelta(hours=2))
    for key in ("late_shipment_max_fen", "late_shipment_percent", "late_shipment_min_fen"):
        admin.reset_rule(key, actor=boss, reason="恢复")
    perform_order_action(on_time.id, "ship", actor=seller2, data={"carrier": "sf", "tracking_no": "SF2"}, now=t0)
    with pytest.raises(Invalid) as err:
        open_case(on_time.id, actor=buyer2, kind="compensation", reason="late_shipment", amount_fen=800, now=t0)
    assert err.value.details["reason"].code == "late_not_owed"
