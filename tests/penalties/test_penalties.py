"""Penalties that bite (issue 13 point 3): points from real penalty tasks (a mediator's decision carried out)
add up per shop; crossing 12 / 24 / 36 points restricts the shop for 7 / 14 / 21 days, 48 closes it
(workflows/rules.py); a restricted or blacklisted shop publishes no listing and takes no new order, until
the restriction's end to the second; existing cases and money go on; an admin lifts it with a reason."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.admin_audit import AdminEvent, verify
from app.cases.services import open_case, perform_action
from app.catalog.models import Product, Shop
from app.catalog.services import publish_listing, set_listing_on_sale
from app.errors import Conflict, Forbidden, Invalid, ShopNotSelling
from app.execution.models import Penalty
from app.extensions import db
from app.orders.services import create_order
from app.payments.verify import verify_money
from app.penalties.services import lift_restriction, remove_blacklist
from app.timeutil import utcnow

from ..execution.test_tasks import mediated
from ..factories import make_order, make_product, make_user
from ..readers import case_of, fresh, money

SECOND, DAY = timedelta(seconds=1), timedelta(days=1)


@pytest.fixture
def t0():
    return utcnow().replace(microsecond=0)


class Shopkeeper:
    """One seller with delivered orders ready to be complained about (made before any restriction)."""

    def __init__(self, t0, orders=4):
        self.seller, self.buyer = make_user("seller"), make_user("buyer")
        self.orders = [make_order(buyer=self.buyer, seller=self.seller, state="delivered", price_fen=10_000,
                                  now=t0 - DAY)[0] for _ in range(orders)]
        self.shop_id = self.seller.shop_id

    def penalise(self, at, *penalties, remedy="dismiss", amount_fen=0):
        order = self.orders.pop(0)
        return mediated(order, self.buyer, self.seller, at, remedy=remedy, amount_fen=amount_fen,
                        penalties=list(penalties))

    def shop(self):
        return fresh(Shop, self.shop_id)

    def rows(self):
        db.session.expire_all()
        return [(p.kind, p.case_id, p.points, p.until) for p in db.session.execute(
            select(Penalty).where(Penalty.shop_id == self.shop_id).order_by(Penalty.id)).scalars()]


def audit(shop_id):
    db.session.expire_all()
    return [(e.actor_id, e.action, e.reason) for e in db.session.execute(
        select(AdminEvent).where(AdminEvent.target_type == "shop", AdminEvent.target_id == str(shop_id))
        .order_by(AdminEvent.id)).scalars()]


def points(n):
    return {"kind": "points", "points": n}


def test_points_cross_each_threshold_through_penalty_tasks(ctx, t0):
    s = Shopkeeper(t0)
    extra = make_product(s.seller.shop)                       # a listing on sale, until the shop is closed
    a = s.penalise(t0, points(6))                              # 6 in force: nothing more
    assert (s.shop().points, s.shop().restricted_until, s.rows()) == (6, None, [("points", a, 6, None)])

    b = s.penalise(t0 + 1 * DAY, points(6))                    # 12: restricted 7 days from the ruling's execution
    assert s.rows()[1:] == [("points", b, 6, None), ("restrict", b, None, t0 + 8 * DAY)]
    assert s.shop().restricted_until == t0 + 8 * DAY
    assert audit(s.shop_id) == [(None, "shop.restrict", f"12 penalty points in force (case {b})")]
    with pytest.raises(ShopNotSelling):    # over the threshold: no listing, no new order
        publish_listing(actor=s.seller, title="新品", category="home", price_fen=1_000, now=t0 + 1 * DAY)
    with pytest.raises(ShopNotSelling):
        create_order(buyer=s.buyer, items=[(fresh(Product, extra.id), 1)], now=t0 + 8 * DAY - SECOND)

    c = s.penalise(t0 + 2 * DAY, points(12))                   # 24: 14 days, from t0 + 2 days
    assert s.rows()[3:] == [("points", c, 12, None), ("restrict", c, None, t0 + 16 * DAY)]
    assert s.shop().restricted_until == t0 + 16 * DAY
    assert fresh(Product, extra.id).status == "on_sale"

    d = s.penalise(t0 + 3 * DAY, points(24))                   # 48: blacklisted, every listing taken down
    assert s.rows()[5:] == [("points", d, 24, None), ("blacklist", d, None, None)]
    shop = s.shop()
    assert (shop.points, shop.is_blacklisted, shop.restricted_until) == (48, True, t0 + 16 * DAY)
    assert fresh(Product, extra.id).status == "taken_down"
    assert [a[1:] for a in audit(s.shop_id)] == [
        ("shop.restrict", f"12 penalty points in force (case {b})"),
        ("shop.restrict", f"24 penalty points in force (case {c})"),
        ("shop.blacklist", f"48 penalty points in force (case {d})")]
    assert all(case_of(cid).phase == "closed" for cid in (a, b, c, d))
    assert verify() == []


def test_points_expire_after_a_year(ctx, t0):
    """Points count inside (now − 365 days, now]: 6, then 6 more 365 days less a second later → 12 in force,
    restricted; 6 more exactly 365 days after the second six → only 6 in force (both earlier ones expired)."""
    s = Shopkeeper(t0, orders=3)
    s.penalise(t0, points(6))
    s.penalise(t0 + 365 * DAY - SECOND, points(6))
    assert s.shop().restricted_until == t0 + 372 * DAY - SECOND
    s.penalise(t0 + 730 * DAY - SECOND, points(6))   # the second 6 are exactly 365 days old: expired
    assert s.shop().restricted_until == t0 + 372 * DAY - SECOND
    assert [k for k, *_ in s.rows()] == ["points", "points", "restrict", "points"]
    assert s.shop().points == 18  # the total ever given; only the last year's count


def test_a_restriction_blocks_listings_and_orders_until_its_end(ctx, t0):
    s = Shopkeeper(t0, orders=1)
    listing = make_product(s.seller.shop, 5_000)
    s.penalise(t0, {"kind": "restrict", "days": 7})
    end = t0 + 7 * DAY
    new = dict(actor=s.seller, title="新品", category="home", price_fen=1_000)
    for at in (t0, end - SECOND):
        with pytest.raises(ShopNotSelling) as err:
            publish_listing(**new, now=at)
        assert (err.value.status, err.value.details["shop"].code) == (409, "shop_restricted")
        assert err.value.details["shop"].values == {"until": end}
        with pytest.raises(ShopNotSelling):
            create_order(buyer=s.buyer, items=[(listing, 1)], now=at)
    set_listing_on_sale(actor=s.seller, listing_id=listing.id, on_sale=False, now=end - SECOND)  # down: allowed
    with pytest.raises(ShopNotSelling):
        set_listing_on_sale(actor=s.seller, listing_id=listing.id, on_sale=True, now=end - SECOND)
    # at its end the shop sells again
    set_listing_on_sale(actor=s.seller, listing_id=listing.id, on_sale=True, now=end)
    created = publish_listing(**new, now=end)
    order = create_order(buyer=s.buyer, items=[(fresh(Product, listing.id), 2)], now=end + SECOND)
    assert (created.status, order.total_fen, order.shop_id) == ("on_sale", 10_000, s.shop_id)


def test_a_blacklisted_shop_is_closed_but_its_cases_and_refunds_go_on(ctx, t0, runner):
    s = Shopkeeper(t0, orders=2)
    listings = [make_product(s.seller.shop, 3_000) for _ in range(2)]
    cid = s.penalise(t0, {"kind": "blacklist"}, remedy="partial_refund", amount_fen=4_000)
    assert case_of(cid).phase == "closed"
    assert money(case_of(cid).order_id)["refunded_fen"] == 4_000
    assert [fresh(Product, p.id).status for p in listings] == ["taken_down", "taken_down"]
    with pytest.raises(ShopNotSelling) as err:
        create_order(buyer=s.buyer, items=[(fresh(Product, listings[0].id), 1)], now=t0 + SECOND)
    assert err.value.details["shop"].code == "shop_blacklisted"
    with pytest.raises(ShopNotSelling):
        publish_listing(actor=s.seller, title="新品", category="home", price_fen=1_000, now=t0 + 400 * DAY)
    with pytest.raises(ShopNotSelling):
        set_listing_on_sale(actor=s.seller, listing_id=listings[0].id, on_sale=True, now=t0 + SECOND)
    # an after-sales request on an earlier order goes on: the seller agrees, the refund is paid
    later = open_case(s.orders[0].id, actor=s.buyer, kind="refund_only", reason="quality", amount_fen=10_000,
                      now=t0 + DAY).id
    perform_action(later, "agree", actor=s.seller, now=t0 + DAY)
    assert (case_of(later).phase, money(s.orders[0].id)["refunded_fen"]) == ("closed", 10_000)
    assert verify_money() == []
    result = runner.invoke(args=["payments", "verify"])
    assert result.exit_code == 0 and result.output.startswith("ok: "), result.output


def test_an_admin_lifts_a_restriction_and_a_blacklist_with_a_reason(ctx, t0):
    s = Shopkeeper(t0, orders=2)
    listing, penalised = make_product(s.seller.shop), make_product(s.seller.shop)
    admin, mediator = make_user("admin"), make_user("mediator")
    s.penalise(t0, {"kind": "restrict", "days": 7}, {"kind": "takedown", "listing_id": penalised.id})
    with pytest.raises(Forbidden):
        lift_restriction(actor=mediator, shop_id=s.shop_id, reason="误判", now=t0 + DAY)
    with pytest.raises(Invalid) as err:
        lift_restriction(actor=admin, shop_id=s.shop_id, reason="  ", now=t0 + DAY)
    assert err.value.details["reason"].code == "required"
    lift_restriction(actor=admin, shop_id=s.shop_id, reason="申诉成功：物流延误非卖家责任", now=t0 + DAY)
    assert s.shop().restricted_until == t0 + DAY
    publish_listing(actor=s.seller, title="新品", category="books", price_fen=2_000, now=t0 + DAY)
    with pytest.raises(Conflict):
        lift_restriction(actor=admin, shop_id=s.shop_id, reason="again", now=t0 + DAY)
    with pytest.raises(Invalid) as err:  # a listing taken down as a penalty stays down
        set_listing_on_sale(actor=s.seller, listing_id=penalised.id, on_sale=True, now=t0 + DAY)
    assert err.value.details["listing_id"].code == "listing_penalised"

    s.penalise(t0 + 2 * DAY, {"kind": "blacklist"})
    remove_blacklist(actor=admin, shop_id=s.shop_id, reason="复核：证据不足", now=t0 + 3 * DAY)
    assert s.shop().is_blacklisted is False
    assert fresh(Product, listing.id).status == "taken_down"       # reopened: the seller relists what may sell
    set_listing_on_sale(actor=s.seller, listing_id=listing.id, on_sale=True, now=t0 + 3 * DAY)
    create_order(buyer=s.buyer, items=[(fresh(Product, listing.id), 1)], now=t0 + 3 * DAY)
    assert audit(s.shop_id) == [(admin.id, "shop.lift_restriction", "申诉成功：物流延误非卖家责任"),
                                (admin.id, "shop.remove_blacklist", "复核：证据不足")]
    assert verify() == []
