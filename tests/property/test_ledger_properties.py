"""Random sequences of pay / ship / deliver / confirm / close by random actors keep the
ledger sound: every entry balances, escrow never goes negative, all accounts sum to zero,
and no order is refunded beyond what was paid — and after every step, every invariant of
`flask payments verify`. Runs on SQLite and on PostgreSQL."""
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from app.errors import ActionNotAvailable, Invalid, NotFound
from app.extensions import db
from app.orders.models import Order
from app.orders.queries import money_for
from app.orders.services import perform_order_action
from app.payments.models import Account, JournalEntry, JournalLine

from ..factories import empty_tables, make_order, make_user
from ..readers import assert_money_ok

ACTIONS = ["pay", "ship", "deliver", "confirm_receipt", "auto_confirm", "close"]


def _clean():
    db.session.remove()
    with db.engine.begin() as conn:
        empty_tables(conn)


class LedgerMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self):
        super().__init__()
        _clean()
        self.buyer, self.seller = make_user("buyer"), make_user("seller")
        self.stranger = make_user("buyer")

    @rule(target=orders, price=st.integers(1, 10_000_000), quantity=st.integers(1, 3))
    def create(self, price, quantity):
        order, _, _ = make_order(self.buyer, self.seller, state="created", price_fen=price, quantity=quantity)
        return order.id

    @rule(order_id=orders, action=st.sampled_from(ACTIONS),
          actor=st.sampled_from(["buyer", "seller", "system", "stranger"]))
    def act(self, order_id, action, actor):
        user = {"buyer": self.buyer, "seller": self.seller, "system": None, "stranger": self.stranger}[actor]
        before = (db.session.get(Order, order_id).status, self._entries())
        try:
            perform_order_action(order_id, action, actor=user,
                                 data={"carrier": "ems", "tracking_no": "E1"} if action == "ship" else None)
        except (ActionNotAvailable, NotFound, Invalid):
            db.session.expire_all()
            assert (db.session.get(Order, order_id).status, self._entries()) == before

    @rule(order_id=orders)
    def repeat_payment_key(self, order_id):
        """A second pay attempt (a double click) never moves money twice."""
        try:
            perform_order_action(order_id, "pay", actor=self.buyer)
        except ActionNotAvailable:
            pass
        paid = money_for([order_id])[order_id]["paid_fen"]
        assert paid in (0, db.session.get(Order, order_id).total_fen)

    def _entries(self):
        return db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()

    @invariant()
    def every_invariant_of_the_money_holds(self):
        assert_money_ok()

    @invariant()
    def every_entry_balances(self):
        unbalanced = db.session.execute(
            select(JournalLine.entry_id).group_by(JournalLine.entry_id)
            .having(func.sum(JournalLine.amount_fen) != 0)).all()
        assert unbalanced == []

    @invariant()
    def all_accounts_sum_to_zero(self):
        assert db.session.execute(select(func.coalesce(func.sum(JournalLine.amount_fen), 0))).scalar_one() == 0

    @invariant()
    def escrow_never_negative(self):
        negative = db.session.execute(
            select(Account.code).join(JournalLine, JournalLine.account_id == Account.id)
            .where(Account.kind == "escrow").group_by(Account.code)
            .having(func.sum(JournalLine.amount_fen) < 0)).all()
        assert negative == []

    @invariant()
    def refunds_never_exceed_payments(self):
        ids = db.session.execute(select(Order.id)).scalars().all()
        for oid, money in money_for(ids).items():
            assert 0 <= money["refunded_fen"] + money["released_fen"] <= money["paid_fen"]
            assert money["escrow_fen"] == money["paid_fen"] - money["refunded_fen"] - money["released_fen"]


def test_ledger_invariants_hold_under_random_order_actions(ctx):
    run_state_machine_as_test(LedgerMachine)  # examples and steps: the Hypothesis profile (tests/conftest.py)
