"""`flask payments verify`: every invariant of the money. Each test breaks one invariant by writing
ledger rows directly (as a bug or a hand edit would) and expects exit 1 with the first violation
and its ids; a sound ledger built through the services exits 0 with a summary."""
import itertools

from sqlalchemy import update

from app.cases.services import open_case, perform_action
from app.db_tx import transaction
from app.extensions import db
from app.orders.models import Order
from app.payments.models import JournalEntry, JournalLine
from app.payments.services import (buyer_funding_code, ensure_account, escrow_code, receivable_code, seller_code,
                                   transfer)
from app.payments.verify import verify_money

from ..factories import make_order

_keys = itertools.count(1)


def write(kind, lines, *, order_id=None, amount_fen=None):
    """An entry written around post_entry: no checks at all."""
    with transaction():
        entry = JournalEntry(idempotency_key=f"raw:{next(_keys)}", kind=kind, order_id=order_id, memo="raw",
                             amount_fen=amount_fen or sum(a for _, a in lines if a > 0))
        db.session.add(entry)
        db.session.flush()
        db.session.add_all(JournalLine(entry_id=entry.id, account_id=ensure_account(code).id, amount_fen=amount)
                           for code, amount in lines)
    return entry.id


def fund_guarantee(amount_fen):
    with transaction():
        transfer("platform:capital", "platform:guarantee", amount_fen, f"fund:{next(_keys)}", kind="fund")


def verify(runner):
    return runner.invoke(args=["payments", "verify"])


def assert_first_violation(runner, expected):
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"VIOLATION {expected}"), result.output
    return result.output


def checks():
    db.session.rollback()
    return [v.check for v in verify_money()]


def test_a_sound_ledger_from_the_services_passes_with_a_summary(ctx, runner):
    refunded, buyer, seller = make_order(state="delivered", price_fen=10_000)
    case = open_case(refunded.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=4_000)
    perform_action(case.id, "agree", actor=seller)
    make_order(seller=seller, state="completed", price_fen=5_000)
    make_order(state="paid", price_fen=2_500)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ") and result.output.count("\n") == 1
    assert "3 orders" in result.output


def test_an_empty_ledger_passes(ctx, runner):
    assert verify(runner).exit_code == 0


def test_an_entry_whose_lines_do_not_sum_to_zero(ctx, runner):
    eid = write("fund", [("platform:capital", -100), ("platform:guarantee", 90)])
    output = assert_first_violation(runner, f"entry_balances: entry {eid} ")
    assert f"entry_id={eid}" in output and "its lines sum to -10 fen, not 0" in output and "(and 1 more)" in output
    assert checks() == ["entry_balances", "accounts_sum_to_zero"]


def test_an_entry_whose_amount_is_not_its_positive_lines(ctx, runner):
    eid = write("fund", [("platform:capital", -100), ("platform:guarantee", 100)], amount_fen=50)
    assert "its amount_fen is 50 but its positive lines add up to 100" in assert_first_violation(runner, f"entry_balances: entry {eid}")
    assert checks() == ["entry_balances"]


def test_a_guarded_account_below_zero(ctx, runner):
    order, _, seller = make_order(state="completed", price_fen=1_000)
    write("payout", [(seller_code(seller.shop_id, "balance"), -1_500), (seller_code(seller.shop_id, "funding"), 1_500)])
    code = seller_code(seller.shop_id, "balance")
    output = assert_first_violation(runner, f"guarded_not_negative: account {code} holds -500 fen")
    assert f"account={code}" in output
    assert checks() == ["guarded_not_negative"]


def test_an_entry_of_another_kind_moving_escrow(ctx, runner):
    order, buyer, _ = make_order(state="paid", price_fen=10_000)
    eid = write("compensation", [(escrow_code(order.id), -1_000), (buyer_funding_code(buyer.id), 1_000)],
                order_id=order.id)
    output = assert_first_violation(runner, f"escrow_kinds: entry {eid} of kind 'compensation' moves escrow:{order.id}")
    assert f"entry_id={eid}" in output
    assert checks() == ["escrow_kinds", "escrow_matches_entries"]


def test_escrow_that_is_not_paid_minus_refunded_minus_released(ctx, runner):
    """A refund out of one order's escrow booked on another order."""
    first, buyer, seller = make_order(state="paid", price_fen=10_000)
    other, _, _ = make_order(buyer=buyer, seller=seller, state="paid", price_fen=3_000)
    write("refund", [(escrow_code(first.id), -1_000), (buyer_funding_code(buyer.id), 1_000)], order_id=other.id)
    output = assert_first_violation(
        runner, f"escrow_matches_entries: order {first.id}: escrow holds 9000 fen, but paid − refunded − released "
                f"is 10000")
    assert f"order_id={first.id}" in output and "(and 1 more)" in output
    assert checks() == ["escrow_matches_entries"] * 2


def test_a_closed_order_with_money_in_escrow(ctx, runner):
    order, _, _ = make_order(state="paid", price_fen=3_990)
    with transaction():
        db.session.execute(update(Order).where(Order.id == order.id).values(status="closed"))
    output = assert_first_violation(
        runner, f"closed_order_escrow_empty: order {order.id} is closed with 3990 fen in escrow")
    assert f"order_id={order.id}" in output
    assert checks() == ["closed_order_escrow_empty"]


def test_a_buyer_paid_back_more_than_the_price(ctx, runner):
    order, buyer, _ = make_order(state="paid", price_fen=10_000)
    fund_guarantee(5_000)
    write("refund", [(escrow_code(order.id), -10_000), (buyer_funding_code(buyer.id), 10_000)], order_id=order.id)
    write("advance", [("platform:guarantee", -1_000), (buyer_funding_code(buyer.id), 1_000)], order_id=order.id)
    output = assert_first_violation(
        runner, f"buyer_paid_at_most_price: order {order.id}: the buyer got 11000 fen back, more than paid 10000 "
                f"+ late-shipment compensation 0")
    assert f"order_id={order.id}" in output
    assert checks() == ["buyer_paid_at_most_price"]


def test_a_late_shipment_compensation_beyond_the_cap(ctx, runner):
    order, buyer, seller = make_order(state="completed", price_fen=10_000)  # cap: 5 % = ¥5
    write("late_compensation", [(seller_code(seller.shop_id, "balance"), -600), (buyer_funding_code(buyer.id), 600)],
          order_id=order.id)
    assert_first_violation(runner, f"late_compensation_capped: order {order.id}: late-shipment compensation 600 fen "
                                   f"is more than the cap 500")
    assert checks() == ["late_compensation_capped"]


def test_two_late_shipment_compensations_on_a_refunded_order(ctx, runner):
    """Each within the cap, together twice it, on top of a full refund."""
    order, buyer, seller = make_order(state="paid", price_fen=10_000)
    make_order(seller=seller, state="completed", price_fen=5_000)  # the shop has money
    write("refund", [(escrow_code(order.id), -10_000), (buyer_funding_code(buyer.id), 10_000)], order_id=order.id)
    for _ in range(2):
        write("late_compensation", [(seller_code(seller.shop_id, "balance"), -500),
                                    (buyer_funding_code(buyer.id), 500)], order_id=order.id)
    assert checks() == ["late_compensation_capped", "buyer_paid_at_most_price"]
    assert_first_violation(runner, f"late_compensation_capped: order {order.id}")


def test_a_receivable_without_an_advance(ctx, runner):
    order, _, seller = make_order(state="completed", price_fen=1_000)
    shop = seller.shop_id
    write("receivable", [(seller_code(shop, "payable"), -700), (receivable_code(shop), 700)], order_id=order.id)
    output = assert_first_violation(
        runner, f"receivable_matches_advances: shop {shop}: platform:receivable:{shop} holds 700 fen, but advances "
                f"− recoveries is 0")
    assert f"shop_id={shop}" in output
    assert checks() == ["receivable_matches_advances"]


def test_the_demo_marketplace_verifies_clean(ctx, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    result = verify(runner)
    assert result.exit_code == 0 and result.output.startswith("ok: "), result.output
