"""Compensation in the rule book (issue 9, findings 2 and 3): late-shipment compensation only
when the order really shipped late, computed by the rules and paid once per order; any other
compensation is money back on the order, paid from its escrow while the escrow holds it, so
no order closes with its price left in escrow."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.cases.models import Case
from app.cases.services import open_case, perform_action
from app.errors import Invalid
from app.extensions import db
from app.orders.services import perform_order_action
from app.payments.services import balance, buyer_funding_code, escrow_code, seller_code
from app.rules import get_rules
from app.timeutil import utcnow
from workflows.compensation import late_shipment_compensation

from ..factories import make_order
from ..readers import case_of, money, order_of
from .test_tasks import H, the_task, top_up_deposit


@pytest.fixture
def t0():
    return utcnow().replace(microsecond=0)


def shipped_at(t0, hours):
    """A paid order (promised to ship within 48 h) that the seller ships `hours` after payment."""
    order, buyer, seller = make_order(state="paid", price_fen=10_000, now=t0)
    perform_order_action(order.id, "ship", actor=seller, data={"carrier": "sf", "tracking_no": "SF1"},
                         now=t0 + H(hours))
    return order_of(order.id), buyer, seller


def paid_to_buyer(buyer_id, order):
    """What the buyer got back beyond the payment: its funding account's balance plus the price."""
    return balance(buyer_funding_code(buyer_id)) + order.total_fen


def test_late_shipment_request_on_an_order_shipped_on_time_is_refused_and_writes_nothing(ctx, t0):
    order, buyer, seller = shipped_at(t0, 24)
    with pytest.raises(Invalid) as err:
        open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=5_000,
                  now=t0 + H(30))
    assert "reason" in err.value.details
    assert db.session.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_late_shipment_compensation_is_the_rules_amount_not_the_buyers(ctx, t0):
    order, buyer, seller = shipped_at(t0, 60)  # 12 hours past the promised time
    top_up_deposit(seller.shop_id, 50_000)
    expected = late_shipment_compensation(order.total_fen, get_rules())
    assert expected == 500  # 5 % of ¥100 is ¥5, the minimum
    case = open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=9_000,
                     now=t0 + H(61))
    assert case.amount_fen == expected
    perform_action(case.id, "agree", actor=seller, now=t0 + H(62))
    assert (case_of(case.id).phase, the_task(case.id, "compensation").state) == ("closed", "done")
    assert paid_to_buyer(buyer.id, order) == expected
    m = money(order.id)  # on top of the price: the order keeps its money and can still be refunded
    assert (m["late_compensation_fen"], m["refundable_fen"], m["escrow_fen"]) == (expected, 10_000, 10_000)


def test_late_shipment_compensation_is_paid_once_per_order(ctx, t0):
    order, buyer, seller = shipped_at(t0, 60)
    top_up_deposit(seller.shop_id, 50_000)
    for attempt in range(2):
        at = t0 + H(61 + attempt)
        if attempt:
            with pytest.raises(Invalid):
                open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=500, now=at)
            break
        case = open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=500, now=at)
        perform_action(case.id, "agree", actor=seller, now=at)
    assert paid_to_buyer(buyer.id, order) == 500


def test_the_buyer_cannot_raise_a_late_shipment_compensation_by_modifying_it(ctx, t0):
    order, buyer, seller = shipped_at(t0, 60)
    case = open_case(order.id, actor=buyer, kind="compensation", reason="late_shipment", amount_fen=500,
                     now=t0 + H(61))
    perform_action(case.id, "refuse", actor=seller, data={"reason": "物流延误"}, now=t0 + H(61))
    with pytest.raises(Invalid) as err:
        perform_action(case.id, "modify", actor=buyer, data={"amount_fen": 9_000, "reason": "再申请"}, now=t0 + H(62))
    assert err.value.details == {"amount_fen": "between 1 and 500"}
    assert (case_of(case.id).state, case_of(case.id).amount_fen) == ("refused", 500)


def test_a_mediator_cannot_award_more_than_the_late_shipment_rule(ctx, t0):
    from .test_tasks import mediated
    order, buyer, seller = make_order(state="paid", price_fen=100_000, now=t0)
    top_up_deposit(seller.shop_id, 50_000)
    cid = mediated(order, buyer, seller, t0 + H(60), remedy="compensation", amount_fen=90_000, type="not_shipped")
    assert case_of(cid).remedy_amount_fen == 3_000  # 5 % of ¥1,000 is ¥50, capped at ¥30
    assert paid_to_buyer(buyer.id, order) == 3_000


def test_full_price_compensation_comes_from_escrow_and_the_order_closes_empty(ctx, t0):
    order, buyer, seller = make_order(state="delivered", price_fen=3_990, now=t0)
    make_order(seller=seller, state="completed", price_fen=20_000, now=t0)  # the shop has a balance
    shop_before = balance(seller_code(seller.shop_id, "balance"))
    case = open_case(order.id, actor=buyer, kind="compensation", reason="quality", amount_fen=3_990, now=t0)
    perform_action(case.id, "agree", actor=seller, now=t0)
    task = the_task(case.id, "compensation")
    assert (task.state, task.paid_by) == ("done", "escrow")
    order = order_of(order.id)
    assert order.status == "closed"
    assert balance(escrow_code(order.id)) == 0
    assert paid_to_buyer(buyer.id, order) == 3_990
    assert balance(seller_code(seller.shop_id, "balance")) == shop_before


def test_partial_compensation_after_release_is_paid_by_the_shop_and_counts_as_refunded(ctx, t0):
    order, buyer, seller = make_order(state="completed", price_fen=10_000, now=t0)  # escrow released
    case = open_case(order.id, actor=buyer, kind="compensation", reason="quality", amount_fen=2_000,
                     now=t0 + timedelta(days=1))
    perform_action(case.id, "agree", actor=seller, now=t0 + timedelta(days=1))
    assert the_task(case.id, "compensation").paid_by == "seller"
    assert (money(order.id)["refunded_fen"], money(order.id)["refundable_fen"]) == (2_000, 8_000)
    assert balance(seller_code(seller.shop_id, "balance")) == 8_000
