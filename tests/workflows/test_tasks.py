"""The execution task machine (workflows/tasks.py), row by row, with no app: a small fake
task carries exactly what the guards and the deadline choice read (state, attempts)."""
from datetime import datetime, timedelta

import pytest

from workflows import ActionNotAllowed, Rules
from workflows import tasks
from workflows.rules import DEFAULTS
from workflows.tasks import PHASE

RULES = Rules()
NOW = datetime(2026, 11, 24, 12, 0)
MAX = DEFAULTS["max_task_attempts"]


class FakeTask:
    def __init__(self, state, attempts=0, kind="refund"):
        self.state, self.attempts, self.kind = state, attempts, kind

    def snapshot(self):
        return dict(vars(self))


def actions(task, role, rules=RULES):
    return [name for name, _ in PHASE.available_actions(task, role, rules)]


# ---------------------------------------------------------------- every row of the table

# (source, trigger, role, attempts, destination)
TRANSITIONS = [
    ("pending", "start", "system", 0, "in_progress"),
    ("in_progress", "complete", "system", 0, "done"),
    ("in_progress", "fail", "system", 0, "failed"),
    ("in_progress", "wait_seller", "system", 0, "awaiting_seller"),      # refund: the escrow was released
    ("in_progress", "wait_shipment", "system", 0, "awaiting_shipment"),  # exchange: the replacement is due
    ("in_progress", "keep", "system", 0, "in_progress"),                 # recovery: money still owed
    ("awaiting_seller", "pay_refund", "seller", 0, "done"),
    ("awaiting_seller", "advance", "system", 0, "done"),                 # 先行垫付
    ("awaiting_seller", "fail", "system", 0, "failed"),                  # the buyer may not have an advance
    ("awaiting_shipment", "ship_replacement", "seller", 0, "in_transit"),
    ("awaiting_shipment", "fail", "system", 0, "failed"),
    ("in_transit", "confirm_replacement", "buyer", 0, "done"),
    ("in_transit", "confirm_replacement", "system", 0, "done"),
    ("failed", "retry", "system", 0, "pending"),
    ("failed", "retry", "system", MAX - 1, "pending"),
    ("failed", "retry", "admin", 0, "pending"),
    ("failed", "retry", "admin", MAX, "pending"),       # an admin may retry when the system has given up
    ("failed", "retry", "admin", MAX + 3, "pending"),
]


@pytest.mark.parametrize("source,trigger,role,attempts,dest", TRANSITIONS,
                         ids=[f"{s}-{t}[{r}|attempts={a}]->{d}" for s, t, r, a, d in TRANSITIONS])
def test_each_transition(source, trigger, role, attempts, dest):
    task = FakeTask(source, attempts)
    assert trigger in actions(task, role)
    assert PHASE.fire(task, trigger, role, RULES) == (source, dest)
    assert (task.state, task.attempts) == (dest, attempts)  # counting attempts is the service's job


def test_the_table_above_has_a_row_for_every_spec_transition_source_and_role():
    tested = {(s, t, r) for s, t, r, _, _ in TRANSITIONS}
    declared = {(source, tr.trigger, role) for tr in PHASE.spec.transitions for source in tr.source
                for role in tr.roles}
    assert declared - tested == set()
    assert tested - declared == set()


# (state, trigger, role, attempts): wrong role, wrong state, or a guard that fails
REFUSED = [
    # wrong role
    ("pending", "start", "seller", 0),
    ("pending", "start", "admin", 0),
    ("in_progress", "complete", "seller", 0),
    ("in_progress", "complete", "admin", 0),
    ("in_progress", "fail", "buyer", 0),
    ("in_progress", "keep", "seller", 0),
    ("in_progress", "wait_seller", "seller", 0),
    ("awaiting_seller", "pay_refund", "buyer", 0),
    ("awaiting_seller", "pay_refund", "system", 0),     # the system cannot pay for the seller: it advances
    ("awaiting_seller", "pay_refund", "mediator", 0),
    ("awaiting_seller", "advance", "seller", 0),
    ("awaiting_seller", "advance", "buyer", 0),
    ("awaiting_seller", "advance", "admin", 0),
    ("awaiting_seller", "fail", "seller", 0),
    ("awaiting_shipment", "ship_replacement", "buyer", 0),
    ("awaiting_shipment", "ship_replacement", "system", 0),
    ("awaiting_shipment", "fail", "seller", 0),
    ("in_transit", "confirm_replacement", "seller", 0),
    ("in_transit", "confirm_replacement", "mediator", 0),
    ("failed", "retry", "buyer", 0),
    ("failed", "retry", "seller", 0),
    ("failed", "retry", "mediator", 0),
    # wrong state
    ("in_progress", "start", "system", 0),
    ("awaiting_seller", "start", "system", 0),
    ("pending", "complete", "system", 0),
    ("awaiting_seller", "complete", "system", 0),
    ("pending", "fail", "system", 0),
    ("in_transit", "fail", "system", 0),
    ("failed", "fail", "system", 0),
    ("done", "fail", "system", 0),
    ("pending", "keep", "system", 0),
    ("awaiting_seller", "keep", "system", 0),
    ("awaiting_seller", "wait_seller", "system", 0),
    ("awaiting_shipment", "wait_shipment", "system", 0),
    ("in_progress", "pay_refund", "seller", 0),
    ("awaiting_shipment", "pay_refund", "seller", 0),
    ("failed", "pay_refund", "seller", 0),
    ("done", "pay_refund", "seller", 0),
    ("in_progress", "advance", "system", 0),
    ("failed", "advance", "system", 0),
    ("done", "advance", "system", 0),
    ("awaiting_seller", "ship_replacement", "seller", 0),
    ("in_transit", "ship_replacement", "seller", 0),
    ("awaiting_shipment", "confirm_replacement", "buyer", 0),
    ("awaiting_shipment", "confirm_replacement", "system", 0),
    ("done", "confirm_replacement", "buyer", 0),
    ("pending", "retry", "system", 0),
    ("in_progress", "retry", "admin", 0),
    ("done", "retry", "system", 0),
    ("done", "retry", "admin", 0),
    ("pending", "no_such_trigger", "system", 0),
    # the guard: the system retries max_task_attempts times, then leaves the task failed
    ("failed", "retry", "system", MAX),
    ("failed", "retry", "system", MAX + 1),
]


@pytest.mark.parametrize("state,trigger,role,attempts", REFUSED,
                         ids=[f"{s}-{t}[{r}|attempts={a}]" for s, t, r, a in REFUSED])
def test_wrong_role_state_or_guard_is_refused_and_changes_nothing(state, trigger, role, attempts):
    task = FakeTask(state, attempts)
    before = task.snapshot()
    with pytest.raises(ActionNotAllowed) as err:
        PHASE.fire(task, trigger, role, RULES)
    assert task.snapshot() == before
    assert (err.value.trigger, err.value.state) == (trigger, state)
    assert trigger not in err.value.allowed
    assert err.value.allowed == actions(task, role)


def test_done_is_terminal_and_offers_nothing_to_anyone():
    assert PHASE.is_terminal("done")
    for role in ("system", "admin", "buyer", "seller", "mediator"):
        assert actions(FakeTask("done"), role) == []
    assert [s.name for s in PHASE.spec.states if s.terminal] == ["done"]


@pytest.mark.parametrize("state,role,expected", [
    ("pending", "system", ["start"]),
    ("in_progress", "system", ["complete", "fail", "wait_seller", "wait_shipment", "keep"]),
    ("awaiting_seller", "seller", ["pay_refund"]),
    ("awaiting_seller", "system", ["fail", "advance"]),
    ("awaiting_seller", "buyer", []),
    ("awaiting_shipment", "seller", ["ship_replacement"]),
    ("awaiting_shipment", "system", ["fail"]),
    ("in_transit", "buyer", ["confirm_replacement"]),
    ("in_transit", "system", ["confirm_replacement"]),
    ("in_transit", "seller", []),
    ("failed", "system", ["retry"]),
    ("failed", "admin", ["retry"]),
    ("failed", "seller", []),
])
def test_available_actions_per_state_and_role(state, role, expected):
    assert actions(FakeTask(state), role) == expected


# ---------------------------------------------------------------- retries

def test_the_system_retries_max_task_attempts_times_then_gives_up_and_an_admin_still_may():
    """The service counts a failure in `attempts`; the system retries while attempts < max."""
    task, runs = FakeTask("pending"), 0
    while True:
        PHASE.fire(task, "start", "system", RULES)
        PHASE.fire(task, "fail", "system", RULES)
        task.attempts += 1
        runs += 1
        if "retry" not in actions(task, "system"):
            break
        assert PHASE.fire(task, "retry", "system", RULES) == ("failed", "pending")
    assert (runs, task.state, task.attempts) == (MAX, "failed", MAX)
    assert DEFAULTS["max_task_attempts"] == 5
    assert PHASE.deadline_for(task, RULES, NOW)[:2] == (None, None)  # nothing more is scheduled
    with pytest.raises(ActionNotAllowed):
        PHASE.fire(task, "retry", "system", RULES)
    assert actions(task, "admin") == ["retry"]
    assert PHASE.fire(task, "retry", "admin", RULES) == ("failed", "pending")


def test_the_retry_limit_is_a_rules_table_value():
    strict, loose = Rules({"max_task_attempts": 2}), Rules({"max_task_attempts": 9})
    task = FakeTask("failed", attempts=2)
    assert actions(task, "system", strict) == []
    assert PHASE.deadline_for(task, strict, NOW)[:2] == (None, None)
    assert actions(task, "system", loose) == ["retry"]
    assert PHASE.deadline_for(task, loose, NOW)[:2] == (NOW + timedelta(hours=1), "retry")
    assert PHASE.fire(FakeTask("failed", attempts=1), "retry", "system", strict) == ("failed", "pending")


# ---------------------------------------------------------------- deadlines

# (state, attempts, rules-table entry, default hours, on_timeout, waiting_for)
DEADLINES = [
    ("pending", 0, "task_start_hours", 0, "start", "system"),
    ("in_progress", 0, "recovery_retry_hours", 24, "keep", "system"),
    ("awaiting_seller", 0, "seller_refund_hours", 48, "advance", "seller"),
    ("awaiting_shipment", 0, "replacement_due_hours", 3 * 24, "fail", "seller"),
    ("in_transit", 0, "replacement_in_transit_hours", 10 * 24, "confirm_replacement", "buyer"),
    ("failed", 0, "execution_retry_hours", 1, "retry", "system"),
    ("failed", MAX - 1, "execution_retry_hours", 1, "retry", "system"),
]


@pytest.mark.parametrize("state,attempts,rule,hours,on_timeout,waiting", DEADLINES,
                         ids=[f"{d[0]}|attempts={d[1]}" for d in DEADLINES])
def test_deadline_of_each_open_task_state(state, attempts, rule, hours, on_timeout, waiting):
    task = FakeTask(state, attempts)
    assert PHASE.state_spec(state).deadline == rule
    assert DEFAULTS[rule] == hours
    assert PHASE.deadline_for(task, RULES, NOW) == (NOW + timedelta(hours=hours), on_timeout, waiting)
    # read from the rules table, so configuration changes it
    assert PHASE.deadline_for(task, Rules({rule: 5}), NOW)[0] == NOW + timedelta(hours=5)
    # and the timeout trigger is one the system may fire right there
    assert on_timeout in actions(task, "system")
    PHASE.fire(task, on_timeout, "system", RULES)


@pytest.mark.parametrize("attempts", [MAX, MAX + 1])
def test_a_failed_task_with_its_attempts_used_up_has_no_deadline(attempts):
    due, on_timeout, _ = PHASE.deadline_for(FakeTask("failed", attempts), RULES, NOW)
    assert (due, on_timeout) == (None, None)


def test_done_has_no_deadline_and_waits_for_nobody():
    assert PHASE.deadline_for(FakeTask("done"), RULES, NOW) == (None, None, None)


def test_every_open_state_is_in_the_deadline_table():
    covered = {s for s, *_ in DEADLINES}
    open_states = {s.name for s in PHASE.spec.states if not s.terminal}
    assert open_states == covered
    for state in open_states:
        due, on_timeout, waiting = PHASE.deadline_for(FakeTask(state), RULES, NOW)
        assert due is not None and on_timeout is not None, state
        assert due > NOW or state == "pending", state  # a new task is due at once
        assert waiting in ("buyer", "seller", "system"), (state, waiting)


# ---------------------------------------------------------------- DOMAIN.md, literally

# "Each remedy becomes an execution task with its own small state machine
#  (pending → in_progress → done | failed → retried)", and the remedies' own moves.
DOMAIN_MOVES = [
    ("pending", "start", "in_progress"),
    ("in_progress", "complete", "done"),
    ("in_progress", "fail", "failed"),
    ("failed", "retry", "pending"),
    # refund after release: the seller pays within the deadline, else the platform advances (先行垫付)
    ("in_progress", "wait_seller", "awaiting_seller"),
    ("awaiting_seller", "pay_refund", "done"),
    ("awaiting_seller", "advance", "done"),
    # exchange: replacement shipment tracked to receipt
    ("in_progress", "wait_shipment", "awaiting_shipment"),
    ("awaiting_shipment", "ship_replacement", "in_transit"),
    ("in_transit", "confirm_replacement", "done"),
]


def test_the_table_covers_every_move_domain_md_lists():
    declared = {(source, tr.trigger, tr.dest if tr.dest != "=" else source)
                for tr in PHASE.spec.transitions for source in tr.source}
    assert [m for m in DOMAIN_MOVES if m not in declared] == []


def test_the_seller_not_paying_in_time_makes_the_system_advance():
    spec = PHASE.state_spec("awaiting_seller")
    assert (spec.on_timeout, spec.deadline, DEFAULTS[spec.deadline]) == ("advance", "seller_refund_hours", 48)
    assert PHASE.state_spec("in_transit").on_timeout == "confirm_replacement"  # silence confirms receipt


@pytest.mark.parametrize("kind,path", [
    ("refund", [("start", "system"), ("complete", "system")]),                           # from escrow
    ("refund", [("start", "system"), ("wait_seller", "system"), ("pay_refund", "seller")]),
    ("refund", [("start", "system"), ("wait_seller", "system"), ("advance", "system")]),
    ("compensation", [("start", "system"), ("complete", "system")]),
    ("compensation", [("start", "system"), ("fail", "system"), ("retry", "system"), ("start", "system"),
                      ("complete", "system")]),
    ("exchange", [("start", "system"), ("wait_shipment", "system"), ("ship_replacement", "seller"),
                  ("confirm_replacement", "buyer")]),
    ("exchange", [("start", "system"), ("wait_shipment", "system"), ("ship_replacement", "seller"),
                  ("confirm_replacement", "system")]),
    ("recovery", [("start", "system"), ("keep", "system"), ("keep", "system"), ("complete", "system")]),
    ("penalty", [("start", "system"), ("complete", "system")]),
])
def test_each_kind_has_a_path_from_pending_to_done(kind, path):
    assert kind in tasks.KINDS
    task = FakeTask(PHASE.spec.initial, kind=kind)
    for trigger, role in path:
        PHASE.fire(task, trigger, role, RULES)
    assert task.state == "done"


def test_kinds_and_initial_state():
    assert tasks.KINDS == ("refund", "compensation", "exchange", "recovery", "penalty")
    assert PHASE.spec.initial == "pending"
    assert tasks.PHASE.spec is tasks.SPEC
