"""The order table of workflows/order.py, row by row, with no app."""
import pytest

from workflows import ActionNotAllowed, Rules
from workflows.order import PHASE

RULES = Rules()


class FakeOrder:
    def __init__(self, status, is_frozen=False):
        self.status, self.is_frozen = status, is_frozen


@pytest.mark.parametrize("source,trigger,role,dest", [
    ("created", "pay", "buyer", "paid"),
    ("created", "close", "buyer", "closed"),
    ("created", "close", "seller", "closed"),
    ("created", "close", "system", "closed"),
    ("paid", "ship", "seller", "shipped"),
    ("paid", "close", "seller", "closed"),
    ("shipped", "deliver", "system", "delivered"),
    ("shipped", "confirm_receipt", "buyer", "completed"),
    ("delivered", "confirm_receipt", "buyer", "completed"),
    ("shipped", "auto_confirm", "system", "completed"),
    ("delivered", "auto_confirm", "system", "completed"),
])
def test_each_order_transition(source, trigger, role, dest):
    order = FakeOrder(source)
    assert PHASE.fire(order, trigger, role, RULES) == (source, dest)
    assert order.status == dest


@pytest.mark.parametrize("source,trigger,role", [
    ("created", "pay", "seller"), ("paid", "ship", "buyer"), ("paid", "close", "buyer"),
    ("shipped", "confirm_receipt", "seller"), ("completed", "close", "seller"), ("closed", "pay", "buyer"),
])
def test_wrong_role_or_state_is_refused_and_changes_nothing(source, trigger, role):
    order = FakeOrder(source)
    with pytest.raises(ActionNotAllowed) as err:
        PHASE.fire(order, trigger, role, RULES)
    assert order.status == source
    assert trigger not in err.value.allowed


def test_open_case_freezes_receipt_confirmation():
    order = FakeOrder("shipped", is_frozen=True)
    assert [name for name, _ in PHASE.available_actions(order, "buyer", RULES)] == []
    with pytest.raises(ActionNotAllowed):
        PHASE.fire(order, "auto_confirm", "system", RULES)


def test_terminal_states_offer_nothing_but_a_refund_close_after_completion():
    for status in ("completed", "closed"):
        assert PHASE.is_terminal(status)
        for role in ("buyer", "seller"):
            assert PHASE.available_actions(FakeOrder(status), role, RULES) == []
    assert PHASE.available_actions(FakeOrder("closed"), "system", RULES) == []
    assert PHASE.available_actions(FakeOrder("completed"), "system", RULES) == [("refund_close", ())]


def test_shipped_state_waits_for_buyer_with_auto_confirm_deadline():
    from datetime import datetime, timedelta
    now = datetime(2026, 11, 24, 12, 0)
    due, on_timeout, waiting = PHASE.deadline_for(FakeOrder("shipped"), RULES, now)
    assert (due, on_timeout, waiting) == (now + timedelta(days=10), "auto_confirm", "buyer")


def test_rules_table_rejects_unknown_overrides_and_applies_known():
    assert Rules({"order_auto_confirm_hours": 24})["order_auto_confirm_hours"] == 24
    with pytest.raises(KeyError):
        Rules({"no_such_rule": 1})
