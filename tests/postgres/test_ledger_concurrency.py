"""PostgreSQL only: many workers spending one shop's money at the same moment (issue 9, finding 1).

`post_entry` locks the accounts it touches in id order before it checks them, and the execution
steps lock the shop's accounts before they read what they hold: a guarded account never goes
below zero, whoever spends from it and however many at once."""
from datetime import timedelta

from app.auth.models import User
from app.cases.services import open_case, perform_action
from app.deadlines.services import sweep
from app.errors import Invalid
from app.execution.models import ExecutionTask
from app.execution.services import run_task, tasks_of
from app.extensions import db
from app.payments.services import balance, seller_code, transfer
from app.db_tx import transaction

from ..concurrency import race
from ..factories import make_order, make_user
from ..readers import assert_money_ok


def _pay_out(shop_id, amount_fen, key):
    with transaction():
        transfer(seller_code(shop_id, "balance"), seller_code(shop_id, "funding"), amount_fen, key, kind="payout")


def _refund_awaiting_seller(seller, amount_fen):
    """A completed order of the seller's shop (its money released to the shop's balance) and an agreed
    refund the seller has to pay. Returns the case id."""
    order, buyer, _ = make_order(seller=seller, state="completed", price_fen=amount_fen)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=amount_fen)
    perform_action(case.id, "agree", actor=seller)
    (task,) = [t for t in tasks_of(case.id) if t.kind == "refund"]
    assert task.state == "awaiting_seller"
    return case.id


def _verify_cli(app):
    result = app.test_cli_runner().invoke(args=["payments", "verify"])
    assert result.exit_code == 0, result.output
    return result.output


def test_eight_sellers_paying_refunds_from_a_balance_that_covers_three(app, ctx):
    seller = make_user("seller")
    cases = [_refund_awaiting_seller(seller, 1_000) for _ in range(8)]
    _pay_out(seller.shop_id, 5_000, "test:payout")
    assert balance(seller_code(seller.shop_id, "balance")) == 3_000

    results = race(app, [lambda cid=cid: perform_action(cid, "pay_refund", actor=seller).id for cid in cases])

    paid = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(paid) == 3, results
    assert all(isinstance(r, Invalid) and r.message == "Insufficient funds" for r in refused), refused
    db.session.expire_all()
    assert balance(seller_code(seller.shop_id, "balance")) == 0
    done = [t for cid in cases for t in tasks_of(cid) if t.state == "done"]
    assert len(done) == 3 and {t.paid_by for t in done} == {"seller"}
    assert_money_ok()
    assert "ok" in _verify_cli(app)


def test_two_refunds_and_a_recovery_at_once_never_overdraw_the_shop(app, ctx):
    """Two refunds paid by the seller at the same moment as the sweeper recovers an advance from the
    same balance, which holds one refund's worth: one of them gets it, nobody overdraws."""
    seller = make_user("seller")
    seller_id = seller.id
    with transaction():
        transfer("platform:capital", "platform:guarantee", 100_000, "test:guarantee", kind="fund")
    advanced = _refund_awaiting_seller(seller, 5_000)
    _pay_out(seller.shop_id, 5_000, "test:payout:1")
    due = next(t for t in tasks_of(advanced) if t.kind == "refund").due_at
    sweep(now=due)  # the seller stayed silent: the platform advanced, recovery found nothing yet
    seller = db.session.get(User, seller_id)
    (recovery,) = [t for t in tasks_of(advanced) if t.kind == "recovery"]
    assert (recovery.state, recovery.recovered_fen) == ("in_progress", 0)
    recovery_id, later = recovery.id, recovery.due_at + timedelta(seconds=1)
    cases = [_refund_awaiting_seller(seller, 5_000) for _ in range(2)]
    _pay_out(seller.shop_id, 5_000, "test:payout:2")
    assert balance(seller_code(seller.shop_id, "balance")) == 5_000

    results = race(app, [lambda cid=cid: perform_action(cid, "pay_refund", actor=seller, now=later).id
                          for cid in cases] + [lambda: run_task(recovery_id, later).recovered_fen])

    unexpected = [r for r in results if isinstance(r, Exception) and not (
        isinstance(r, Invalid) and r.message == "Insufficient funds")]
    assert unexpected == [], results
    db.session.expire_all()
    recovered = db.session.get(ExecutionTask, recovery_id).recovered_fen
    refunds_paid = sum(not isinstance(r, Exception) for r in results[:2])
    assert refunds_paid * 5_000 + recovered == 5_000, results
    assert balance(seller_code(seller.shop_id, "balance")) == 0
    assert_money_ok()
    _verify_cli(app)
