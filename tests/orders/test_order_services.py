import pytest

from app.errors import ActionNotAvailable, Invalid, NotFound
from app.extensions import db
from app.orders.models import Order
from app.orders.queries import money_for
from app.orders.services import perform_order_action
from app.payments.services import balance, seller_code

from ..factories import make_order, make_user


def test_order_walks_to_completed_and_escrow_is_released_to_the_seller(ctx):
    order, buyer, seller = make_order(state="delivered", price_fen=8_800, quantity=2)
    assert money_for([order.id])[order.id]["escrow_fen"] == 17_600
    assert order.auto_confirm_at is not None and order.shipments[0].status == "signed"
    perform_order_action(order.id, "confirm_receipt", actor=buyer)
    order = db.session.get(Order, order.id)
    assert order.status == "completed" and order.auto_confirm_at is None
    assert money_for([order.id])[order.id] == {"paid_fen": 17_600, "refunded_fen": 0, "released_fen": 17_600,
                                               "escrow_fen": 0, "refundable_fen": 17_600,
                                               "late_compensation_fen": 0}
    assert balance(seller_code(seller.shop_id, "balance")) == 17_600


def test_seller_closing_a_paid_order_refunds_the_buyer_in_full(ctx):
    order, buyer, seller = make_order(state="paid", price_fen=5_000)
    perform_order_action(order.id, "close", actor=seller)
    money = money_for([order.id])[order.id]
    assert (money["refunded_fen"], money["escrow_fen"], money["refundable_fen"]) == (5_000, 0, 0)
    assert balance(f"buyer:{buyer.id}:funding") == 0


def test_shipping_sets_the_auto_confirm_deadline_ten_days_out(ctx):
    from datetime import datetime, timedelta
    now = datetime(2026, 11, 1, 8, 0)
    order, _, _ = make_order(state="shipped", now=now)
    assert order.auto_confirm_at == now + timedelta(days=10)
    assert (order.shipments[0].carrier, order.shipments[0].tracking_no) == ("sf", "SF100200300")


def test_action_in_wrong_state_names_the_allowed_ones_and_changes_nothing(ctx):
    order, buyer, _ = make_order(state="paid")
    with pytest.raises(ActionNotAvailable) as err:
        perform_order_action(order.id, "confirm_receipt", actor=buyer)
    assert err.value.details == {"available_actions": []}
    assert db.session.get(Order, order.id).status == "paid"


def test_another_buyer_cannot_act_on_the_order(ctx):
    order, _, _ = make_order(state="created")
    stranger = make_user("buyer")
    with pytest.raises(NotFound):
        perform_order_action(order.id, "pay", actor=stranger)
    assert db.session.get(Order, order.id).status == "created"
    assert money_for([order.id])[order.id]["paid_fen"] == 0


def test_seller_of_another_shop_cannot_ship(ctx):
    order, _, _ = make_order(state="paid")
    with pytest.raises(NotFound):
        perform_order_action(order.id, "ship", actor=make_user("seller"),
                             data={"carrier": "zto", "tracking_no": "1"})


def test_shipping_without_tracking_number_is_invalid_and_rolls_back(ctx):
    order, _, seller = make_order(state="paid")
    with pytest.raises(Invalid) as err:
        perform_order_action(order.id, "ship", actor=seller, data={"carrier": "zto", "tracking_no": "  "})
    assert err.value.details == {"tracking_no": "required"}
    order = db.session.get(Order, order.id)
    assert order.status == "paid" and order.shipments == []


def test_frozen_order_cannot_be_confirmed(ctx):
    order, buyer, _ = make_order(state="shipped")
    order.is_frozen = True
    db.session.commit()
    with pytest.raises(ActionNotAvailable):
        perform_order_action(order.id, "confirm_receipt", actor=buyer)
    assert money_for([order.id])[order.id]["escrow_fen"] == 10_000


def test_order_snapshot_keeps_the_price_at_order_time(ctx):
    order, _, _ = make_order(state="created", price_fen=3_000)
    product = order.items[0]
    from app.catalog.models import Product
    listing = db.session.get(Product, product.product_id)
    listing.price_fen, listing.title = 9_999, "改过的标题"
    db.session.commit()
    order = db.session.get(Order, order.id)
    assert (order.items[0].unit_price_fen, order.total_fen) == (3_000, 3_000)
    assert order.items[0].title != "改过的标题"


def test_unknown_carrier_is_invalid(ctx):
    order, _, seller = make_order(state="paid")
    with pytest.raises(Invalid) as err:
        perform_order_action(order.id, "ship", actor=seller, data={"carrier": "pigeon", "tracking_no": "1"})
    assert "carrier" in err.value.details


def test_ledger_entries_carry_the_time_of_the_action(ctx):
    from datetime import datetime
    from app.orders.queries import ledger_for
    now = datetime(2026, 10, 1, 9, 0)
    order, _, _ = make_order(state="paid", now=now)
    assert [e.created_at for e in ledger_for(order.id)] == [now]
