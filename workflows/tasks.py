"""Execution tasks (执行): one per remedy, each with its own small state machine.

| state             | who acts      | moves                                                              |
|-------------------|---------------|--------------------------------------------------------------------|
| pending           | system        | start → in_progress                                                |
| in_progress       | system        | complete → done · fail → failed · wait_seller → awaiting_seller · wait_shipment → awaiting_shipment · keep (recovery still owed) |
| awaiting_seller   | seller        | pay_refund → done · timeout: advance (先行垫付) → done, or fail → failed when the buyer is not eligible |
| awaiting_shipment | seller        | ship_replacement → in_transit · timeout: fail → failed            |
| in_transit        | buyer         | confirm_replacement → done · timeout: confirm_replacement          |
| failed            | system, admin | retry → pending (the system retries `max_task_attempts` times)     |

Kinds: refund (from escrow; if the money was released, the seller pays within
`seller_refund_hours`, else the platform advances it), compensation (seller → buyer),
exchange (replacement tracked to receipt), recovery (an advance taken back from the
shop's balance, then its deposit), penalty (takedown, points, restriction, blacklist).

Every step runs in one transaction with the task row locked; every ledger movement's
idempotency key is derived from the task, so a step run twice moves money once."""
from .engine import Phase
from .spec import PhaseSpec, StateSpec, t

KINDS = ("refund", "compensation", "exchange", "recovery", "penalty")


def may_retry(task, data, rules):
    return data.get("_role") == "admin" or task.attempts < rules["max_task_attempts"]


def failed_deadline(task, state, rules):
    return state.deadline if task.attempts < rules["max_task_attempts"] else None


SPEC = PhaseSpec(
    name="task",
    initial="pending",
    deadline_choice=lambda task, state, rules: failed_deadline(task, state, rules) if state.name == "failed"
    else state.deadline,
    states=(
        StateSpec("pending", "system", "task_start_hours", "start"),
        StateSpec("in_progress", "system", "recovery_retry_hours", "keep"),
        StateSpec("awaiting_seller", "seller", "seller_refund_hours", "advance"),
        StateSpec("awaiting_shipment", "seller", "replacement_due_hours", "fail"),
        StateSpec("in_transit", "buyer", "replacement_in_transit_hours", "confirm_replacement"),
        StateSpec("failed", "system", "execution_retry_hours", "retry"),
        StateSpec("done", terminal=True),
    ),
    transitions=(
        t("start", "pending", "in_progress", "system"),
        t("complete", "in_progress", "done", "system"),
        t("fail", ("in_progress", "awaiting_seller", "awaiting_shipment"), "failed", "system"),
        t("wait_seller", "in_progress", "awaiting_seller", "system"),
        t("wait_shipment", "in_progress", "awaiting_shipment", "system"),
        t("keep", "in_progress", "=", "system"),
        t("pay_refund", "awaiting_seller", "done", "seller"),
        t("advance", "awaiting_seller", "done", "system"),
        t("ship_replacement", "awaiting_shipment", "in_transit", "seller", fields=("carrier", "tracking_no")),
        t("confirm_replacement", "in_transit", "done", ("buyer", "system")),
        t("retry", "failed", "pending", ("system", "admin"), guards=(may_retry,)),
    ),
)

PHASE = Phase(SPEC)
