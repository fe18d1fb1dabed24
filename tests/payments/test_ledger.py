import pytest
from sqlalchemy import func, select

from app.db_tx import transaction
from app.errors import Conflict, Invalid
from app.extensions import db
from app.payments.models import JournalEntry, JournalLine
from app.payments.services import balance, post_entry, transfer

from ..factories import make_order


@pytest.fixture
def codes(ctx):
    order, buyer, _ = make_order(state="created")
    return f"buyer:{buyer.id}:funding", f"escrow:{order.id}"


def test_transfer_writes_one_balanced_entry_and_sql_balances(codes):
    fund, escrow = codes
    with transaction():
        transfer(fund, escrow, 12_34, "k1", kind="pay")
    assert balance(fund) == -1234
    assert balance(escrow) == 1234
    assert db.session.execute(select(func.sum(JournalLine.amount_fen))).scalar_one() == 0


def test_repeating_an_idempotency_key_is_a_no_op(codes):
    fund, escrow = codes
    with transaction():
        first = transfer(fund, escrow, 500, "same-key", kind="pay")
    with transaction():
        again = transfer(fund, escrow, 500, "same-key", kind="pay")
    assert again.id == first.id
    assert balance(escrow) == 500
    assert db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one() == 1


def test_unbalanced_entry_is_refused(codes):
    fund, escrow = codes
    with pytest.raises(Invalid):
        with transaction():
            post_entry([(fund, -100), (escrow, 90)], "bad", kind="pay")
    assert db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one() == 0


def test_escrow_may_not_go_negative_and_nothing_is_written(codes):
    fund, escrow = codes
    with transaction():
        transfer(fund, escrow, 100, "pay", kind="pay")
    with pytest.raises(Invalid) as err:
        with transaction():
            transfer(escrow, fund, 101, "too-much", kind="refund")
    assert err.value.details["accounts"] == [escrow]
    assert balance(escrow) == 100
    assert db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one() == 1


# ---------------------------------------------------------------- a strict ledger API (issue 9, finding 7)

def _entries():
    return db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


@pytest.mark.parametrize("lines, kind, order", [
    ([(-600, "fund"), (600, "escrow")], "pay", True),     # another amount
    ([(-500, "fund"), (500, "other")], "pay", True),      # another account
    ([(-500, "fund"), (500, "escrow")], "refund", True),  # another kind
    ([(-500, "fund"), (500, "escrow")], "pay", False),    # another order
])
def test_repeating_a_key_with_other_lines_kind_or_order_is_a_conflict(codes, lines, kind, order):
    fund, escrow = codes
    order_id = int(escrow.split(":")[1])
    accounts = {"fund": fund, "escrow": escrow, "other": "platform:guarantee"}
    with transaction():
        first = transfer(fund, escrow, 500, "same-key", kind="pay", order_id=order_id)
    with pytest.raises(Conflict) as err:
        with transaction():
            post_entry([(accounts[a], n) for n, a in lines], "same-key", kind=kind,
                       order_id=order_id if order else None)
    assert "same-key" in err.value.message
    assert err.value.details["entry_id"] == first.id
    assert err.value.details["existing"]["lines"] == [[fund, -500], [escrow, 500]]
    assert (balance(escrow), _entries()) == (500, 1)


def test_repeating_a_key_with_the_same_lines_in_any_order_returns_the_first_entry(codes):
    fund, escrow = codes
    with transaction():
        first = transfer(fund, escrow, 500, "same-key", kind="pay")
    with transaction():
        again = post_entry([(escrow, 500), (fund, -500)], "same-key", kind="pay", memo="a retry")
    assert again.id == first.id
    assert (balance(escrow), _entries()) == (500, 1)


@pytest.mark.parametrize("amount", [10.9, 10.0, True, float("nan"), float("inf"), "100", None])
def test_an_amount_that_is_not_an_integer_is_refused_and_nothing_is_written(codes, amount):
    fund, escrow = codes
    with pytest.raises(Invalid) as err:
        with transaction():
            post_entry([(fund, -10), (escrow, amount)], "not-int", kind="pay")
    assert "integer" in err.value.message
    assert (balance(escrow), _entries()) == (0, 0)


def test_an_entry_of_zero_lines_is_refused(codes):
    fund, escrow = codes
    with pytest.raises(Invalid):
        with transaction():
            post_entry([(fund, 0), (escrow, 0)], "zero", kind="pay")
    assert _entries() == 0
