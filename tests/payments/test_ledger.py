import pytest
from sqlalchemy import func, select

from app.db_tx import transaction
from app.errors import Invalid
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
