"""The five case phases (workflows/negotiation.py … execution.py) and their links
(workflows/cases.py), row by row, with no app: a small fake case carries exactly the
attributes the guards, the deadline choice and `next_phase` read."""
from datetime import datetime, timedelta

import pytest

from workflows import ActionNotAllowed, Rules
from workflows import complaint, execution, mediation, negotiation, resolution
from workflows.cases import HANDOFF, PHASES, available_actions, next_phase
from workflows.rules import DEFAULTS

RULES = Rules()
NOW = datetime(2026, 11, 24, 12, 0)
ACCEPTED = datetime(2026, 11, 24, 9, 0)
HOUR, DAY = 1, 24


class FakeCase:
    def __init__(self, phase, state, **kw):
        self.phase, self.state = phase, state
        self.kind = kw.pop("kind", "refund_only")
        self.modify_count = kw.pop("modify_count", 0)
        self.order_shipped = kw.pop("order_shipped", False)
        self.evidence_extended = kw.pop("evidence_extended", False)
        self.evidence_party = kw.pop("evidence_party", None)
        self.buyer_accepted_at = kw.pop("buyer_accepted_at", None)
        self.seller_accepted_at = kw.pop("seller_accepted_at", None)
        self.remedy_type = kw.pop("remedy_type", None)
        self.remedy_amount_fen = kw.pop("remedy_amount_fen", 0)
        self.penalties = kw.pop("penalties", [])
        # what the service's _prepare sets from the case's buyer-facing execution tasks
        self.task_states = kw.pop("task_states", ())
        self.tasks_done = kw.pop("tasks_done", False)
        self.task_waiting = kw.pop("task_waiting", "system")
        assert not kw, f"unknown fake attributes {kw}"

    def snapshot(self):
        return dict(vars(self))


# ---------------------------------------------------------------- every row of every table

# (phase, source, trigger, role, fake attributes (the guard condition), destination)
TRANSITIONS = [
    # negotiation (DOMAIN.md table 1)
    ("negotiation", "requested", "agree", "seller", {"kind": "refund_only"}, "agreed"),
    ("negotiation", "requested", "agree", "seller", {"kind": "compensation"}, "agreed"),
    ("negotiation", "requested", "agree", "system", {"kind": "refund_only"}, "agreed"),
    ("negotiation", "requested", "agree", "system", {"kind": "compensation"}, "agreed"),
    ("negotiation", "requested", "agree", "seller", {"kind": "return_refund"}, "awaiting_return"),
    ("negotiation", "requested", "agree", "seller", {"kind": "exchange"}, "awaiting_return"),
    ("negotiation", "requested", "agree", "system", {"kind": "return_refund"}, "awaiting_return"),
    ("negotiation", "requested", "agree", "system", {"kind": "exchange"}, "awaiting_return"),
    ("negotiation", "requested", "counter_offer", "seller", {}, "countered"),
    ("negotiation", "requested", "refuse", "seller", {}, "refused"),
    ("negotiation", "countered", "accept_offer", "buyer", {}, "agreed"),
    ("negotiation", "countered", "modify", "buyer", {"modify_count": 0}, "requested"),
    ("negotiation", "requested", "modify", "buyer", {"modify_count": 0}, "requested"),  # before the seller answers
    ("negotiation", "refused", "modify", "buyer", {"modify_count": 0}, "requested"),
    ("negotiation", "refused", "modify", "buyer", {"modify_count": 2}, "requested"),
    ("negotiation", "countered", "escalate", "buyer", {}, "escalated"),
    ("negotiation", "refused", "escalate", "buyer", {}, "escalated"),
    ("negotiation", "awaiting_return", "ship_return", "buyer", {"kind": "return_refund"}, "return_in_transit"),
    ("negotiation", "awaiting_return", "ship_return", "buyer", {"kind": "exchange"}, "return_in_transit"),
    ("negotiation", "return_in_transit", "confirm_received", "seller", {"kind": "return_refund"}, "agreed"),
    ("negotiation", "return_in_transit", "confirm_received", "system", {"kind": "return_refund"}, "agreed"),
    ("negotiation", "return_in_transit", "confirm_received", "seller", {"kind": "exchange"}, "replacement_due"),
    ("negotiation", "return_in_transit", "confirm_received", "system", {"kind": "exchange"}, "replacement_due"),
    ("negotiation", "return_in_transit", "reject_return", "seller", {}, "refused"),
    ("negotiation", "replacement_due", "ship_replacement", "seller", {"kind": "exchange"}, "replacement_in_transit"),
    ("negotiation", "replacement_due", "fail_replacement", "system", {"kind": "exchange"}, "agreed"),
    ("negotiation", "replacement_in_transit", "confirm_replacement", "buyer", {"kind": "exchange"}, "agreed"),
    ("negotiation", "replacement_in_transit", "confirm_replacement", "system", {"kind": "exchange"}, "agreed"),
    *[("negotiation", s, "withdraw", "buyer", {}, "withdrawn") for s in negotiation.OPEN],
    ("negotiation", "countered", "expire", "system", {}, "expired"),
    ("negotiation", "refused", "expire", "system", {}, "expired"),
    ("negotiation", "awaiting_return", "expire", "system", {}, "expired"),
    # complaint
    ("complaint", "awaiting_response", "respond", "seller", {"kind": "complaint"}, "handed_over"),
    ("complaint", "awaiting_response", "hand_over", "system", {"kind": "complaint"}, "handed_over"),
    ("complaint", "awaiting_response", "withdraw", "buyer", {"kind": "complaint"}, "withdrawn"),
    # mediation
    ("mediation", "queued", "assign", "mediator", {}, "assigned"),
    ("mediation", "queued", "auto_assign", "system", {}, "assigned"),
    ("mediation", "assigned", "request_evidence", "mediator", {}, "evidence_period"),
    ("mediation", "under_review", "request_evidence", "mediator", {}, "evidence_period"),
    ("mediation", "evidence_period", "extend_evidence", "mediator", {"evidence_extended": False}, "evidence_period"),
    ("mediation", "evidence_period", "close_evidence", "system", {}, "under_review"),
    ("mediation", "assigned", "start_review", "mediator", {}, "under_review"),
    ("mediation", "evidence_period", "start_review", "mediator", {}, "under_review"),
    ("mediation", "under_review", "propose", "mediator", {}, "proposed"),
    ("mediation", "assigned", "flag_overdue", "system", {}, "assigned"),
    ("mediation", "under_review", "flag_overdue", "system", {}, "under_review"),
    *[("mediation", s, "reassign", "system", {}, s) for s in ("assigned", "evidence_period", "under_review")],
    *[("mediation", s, "withdraw", "buyer", {}, "withdrawn") for s in mediation.OPEN],
    # resolution
    ("resolution", "proposed", "accept_proposal", "buyer", {}, "proposed"),
    ("resolution", "proposed", "accept_proposal", "seller", {}, "proposed"),
    ("resolution", "proposed", "accept_proposal", "buyer", {"seller_accepted_at": ACCEPTED}, "accepted"),
    ("resolution", "proposed", "accept_proposal", "seller", {"buyer_accepted_at": ACCEPTED}, "accepted"),
    ("resolution", "proposed", "reject_proposal", "buyer", {}, "rejected"),
    ("resolution", "proposed", "reject_proposal", "seller", {}, "rejected"),
    ("resolution", "proposed", "reject_proposal", "buyer", {"seller_accepted_at": ACCEPTED}, "rejected"),
    ("resolution", "proposed", "reject_proposal", "seller", {"buyer_accepted_at": ACCEPTED}, "rejected"),
    ("resolution", "proposed", "accept_by_silence", "system", {}, "accepted"),
    ("resolution", "proposed", "accept_by_silence", "system", {"buyer_accepted_at": ACCEPTED}, "accepted"),
    ("resolution", "rejected", "rule", "mediator", {}, "ruled"),
    ("resolution", "rejected", "flag_overdue", "system", {}, "rejected"),
    ("resolution", "proposed", "reassign", "system", {}, "proposed"),
    ("resolution", "rejected", "reassign", "system", {}, "rejected"),
    # execution: the case waits in `executing` while its tasks (workflows/tasks.py) run; the parties'
    # actions are offered while a task waits for them, and the service hands them to that task
    ("execution", "executing", "pay_refund", "seller", {"task_states": ("awaiting_seller",)}, "executing"),
    ("execution", "executing", "pay_refund", "seller", {"task_states": ("awaiting_seller", "done")}, "executing"),
    ("execution", "executing", "ship_replacement", "seller", {"task_states": ("awaiting_shipment",)}, "executing"),
    ("execution", "executing", "confirm_replacement", "buyer", {"task_states": ("in_transit",)}, "executing"),
    ("execution", "executing", "check", "system", {}, "executing"),
    ("execution", "executing", "check", "system", {"task_states": ("failed",)}, "executing"),
    ("execution", "executing", "complete", "system", {"task_states": ("done",), "tasks_done": True}, "done"),
    ("execution", "executing", "complete", "system", {"tasks_done": True}, "done"),  # only penalty tasks
]


def _row_id(row):
    phase, source, trigger, role, attrs, dest = row
    guard = ",".join(f"{k}={v}" for k, v in attrs.items() if k != "kind" or phase == "negotiation")
    return f"{phase}:{source}-{trigger}[{role}{'|' + guard if guard else ''}]->{dest}"


@pytest.mark.parametrize("phase,source,trigger,role,attrs,dest", TRANSITIONS, ids=[_row_id(r) for r in TRANSITIONS])
def test_each_transition(phase, source, trigger, role, attrs, dest):
    case = FakeCase(phase, source, **attrs)
    assert trigger in [name for name, _ in PHASES[phase].available_actions(case, role, RULES)]
    assert PHASES[phase].fire(case, trigger, role, RULES) == (source, dest)
    assert case.state == dest


def test_the_table_above_has_a_row_for_every_spec_transition_source_and_role():
    """No spec row is left untested: every (phase, source, trigger, role) appears above."""
    tested = {(p, s, t, r) for p, s, t, r, _, _ in TRANSITIONS}
    declared = {(name, source, tr.trigger, role) for name, ph in PHASES.items()
                for tr in ph.spec.transitions for source in tr.source for role in tr.roles}
    assert declared - tested == set()
    assert tested - declared == set()


# (phase, state, trigger, role, fake attributes): wrong role, wrong state, or a guard that fails
REFUSED = [
    # wrong role
    ("negotiation", "requested", "agree", "buyer", {}),
    ("negotiation", "requested", "agree", "mediator", {}),
    ("negotiation", "requested", "counter_offer", "buyer", {}),
    ("negotiation", "requested", "refuse", "system", {}),
    ("negotiation", "requested", "withdraw", "seller", {}),
    ("negotiation", "requested", "withdraw", "system", {}),
    ("negotiation", "countered", "accept_offer", "seller", {}),
    ("negotiation", "countered", "expire", "buyer", {}),
    ("negotiation", "refused", "escalate", "seller", {}),
    ("negotiation", "awaiting_return", "ship_return", "seller", {"kind": "return_refund"}),
    ("negotiation", "return_in_transit", "confirm_received", "buyer", {"kind": "return_refund"}),
    ("negotiation", "return_in_transit", "reject_return", "buyer", {"kind": "return_refund"}),
    ("negotiation", "replacement_due", "ship_replacement", "buyer", {"kind": "exchange"}),
    ("negotiation", "replacement_due", "fail_replacement", "seller", {"kind": "exchange"}),
    ("negotiation", "replacement_in_transit", "confirm_replacement", "seller", {"kind": "exchange"}),
    ("complaint", "awaiting_response", "respond", "buyer", {}),
    ("complaint", "awaiting_response", "hand_over", "seller", {}),
    ("complaint", "awaiting_response", "withdraw", "seller", {}),
    ("mediation", "queued", "assign", "buyer", {}),
    ("mediation", "queued", "auto_assign", "mediator", {}),
    ("mediation", "assigned", "request_evidence", "seller", {}),
    ("mediation", "under_review", "propose", "buyer", {}),
    ("mediation", "under_review", "propose", "system", {}),
    ("mediation", "evidence_period", "close_evidence", "mediator", {}),
    ("mediation", "under_review", "withdraw", "seller", {}),
    ("resolution", "proposed", "accept_proposal", "mediator", {}),
    ("resolution", "proposed", "accept_proposal", "system", {}),
    ("resolution", "proposed", "accept_by_silence", "buyer", {}),
    ("resolution", "rejected", "rule", "buyer", {}),
    ("resolution", "rejected", "rule", "seller", {}),
    ("execution", "executing", "pay_refund", "buyer", {"task_states": ("awaiting_seller",)}),
    ("execution", "executing", "pay_refund", "system", {"task_states": ("awaiting_seller",)}),
    ("execution", "executing", "ship_replacement", "buyer", {"task_states": ("awaiting_shipment",)}),
    ("execution", "executing", "confirm_replacement", "seller", {"task_states": ("in_transit",)}),
    ("execution", "executing", "complete", "seller", {"tasks_done": True}),
    ("execution", "executing", "complete", "mediator", {"tasks_done": True}),
    ("execution", "executing", "check", "seller", {}),
    ("execution", "executing", "withdraw", "buyer", {}),
    # wrong state
    ("negotiation", "countered", "agree", "seller", {}),
    ("negotiation", "refused", "counter_offer", "seller", {}),
    ("negotiation", "requested", "accept_offer", "buyer", {}),
    ("negotiation", "requested", "escalate", "buyer", {}),
    ("negotiation", "requested", "expire", "system", {}),
    ("negotiation", "return_in_transit", "expire", "system", {"kind": "return_refund"}),
    ("negotiation", "requested", "ship_return", "buyer", {"kind": "return_refund"}),
    ("negotiation", "awaiting_return", "confirm_received", "seller", {"kind": "return_refund"}),
    ("negotiation", "requested", "fail_replacement", "system", {"kind": "exchange"}),
    ("negotiation", "agreed", "withdraw", "buyer", {}),
    ("negotiation", "expired", "modify", "buyer", {}),
    ("complaint", "handed_over", "respond", "seller", {}),
    ("complaint", "withdrawn", "withdraw", "buyer", {}),
    ("mediation", "assigned", "assign", "mediator", {}),
    ("mediation", "queued", "propose", "mediator", {}),
    ("mediation", "assigned", "close_evidence", "system", {}),
    ("mediation", "evidence_period", "flag_overdue", "system", {}),
    ("mediation", "queued", "flag_overdue", "system", {}),
    ("mediation", "proposed", "withdraw", "buyer", {}),
    ("resolution", "proposed", "withdraw", "buyer", {}),
    ("resolution", "proposed", "rule", "mediator", {}),
    ("resolution", "rejected", "accept_proposal", "buyer", {}),
    ("resolution", "proposed", "flag_overdue", "system", {}),
    ("resolution", "accepted", "reject_proposal", "seller", {}),
    ("execution", "done", "pay_refund", "seller", {"task_states": ("awaiting_seller",)}),
    ("execution", "done", "check", "system", {}),
    ("execution", "done", "complete", "system", {"tasks_done": True}),
    ("execution", "executing", "execute", "system", {}),      # the old single-step execution is gone
    ("execution", "executing", "advance", "system", {}),      # an advance is the task's timeout, not the case's
    # guards
    ("negotiation", "requested", "agree", "seller", {"kind": "complaint"}),
    ("negotiation", "return_in_transit", "confirm_received", "seller", {"kind": "refund_only"}),
    ("negotiation", "refused", "modify", "buyer", {"modify_count": 3}),
    ("negotiation", "countered", "modify", "buyer", {"modify_count": 3}),
    ("negotiation", "requested", "modify", "buyer", {"modify_count": 3}),
    ("mediation", "evidence_period", "extend_evidence", "mediator", {"evidence_extended": True}),
    ("resolution", "proposed", "accept_proposal", "buyer", {"buyer_accepted_at": ACCEPTED}),
    ("resolution", "proposed", "accept_proposal", "seller", {"seller_accepted_at": ACCEPTED}),
    ("resolution", "proposed", "reject_proposal", "buyer", {"buyer_accepted_at": ACCEPTED}),
    ("resolution", "proposed", "reject_proposal", "seller", {"seller_accepted_at": ACCEPTED}),
    # execution: an action is offered only while a task waits for it; complete only when every task is done
    ("execution", "executing", "pay_refund", "seller", {}),
    ("execution", "executing", "pay_refund", "seller", {"task_states": ("in_progress",)}),
    ("execution", "executing", "pay_refund", "seller", {"task_states": ("done",)}),
    ("execution", "executing", "pay_refund", "seller", {"task_states": ("failed",)}),
    ("execution", "executing", "pay_refund", "seller", {"task_states": ("awaiting_shipment",)}),
    ("execution", "executing", "ship_replacement", "seller", {"task_states": ("awaiting_seller",)}),
    ("execution", "executing", "ship_replacement", "seller", {"task_states": ("in_transit",)}),
    ("execution", "executing", "confirm_replacement", "buyer", {"task_states": ("awaiting_shipment",)}),
    ("execution", "executing", "confirm_replacement", "buyer", {"task_states": ("done",)}),
    ("execution", "executing", "complete", "system", {"task_states": ("awaiting_seller",)}),
    ("execution", "executing", "complete", "system", {"task_states": ("done", "failed")}),
]


@pytest.mark.parametrize("phase,state,trigger,role,attrs", REFUSED,
                         ids=[f"{p}:{s}-{t}[{r}{'|' + ','.join(f'{k}={v}' for k, v in a.items()) if a else ''}]"
                              for p, s, t, r, a in REFUSED])
def test_wrong_role_state_or_guard_is_refused_and_changes_nothing(phase, state, trigger, role, attrs):
    case = FakeCase(phase, state, **attrs)
    before = case.snapshot()
    with pytest.raises(ActionNotAllowed) as err:
        PHASES[phase].fire(case, trigger, role, RULES)
    assert case.snapshot() == before
    assert (err.value.trigger, err.value.state) == (trigger, state)
    assert trigger not in err.value.allowed
    assert err.value.allowed == [n for n, _ in PHASES[phase].available_actions(case, role, RULES)]


def test_refusal_names_what_the_role_may_do_instead():
    case = FakeCase("negotiation", "refused", modify_count=3)
    with pytest.raises(ActionNotAllowed) as err:
        negotiation.PHASE.fire(case, "modify", "buyer", RULES)
    assert err.value.allowed == ["escalate", "withdraw"]
    assert available_actions(FakeCase("negotiation", "requested"), "seller", RULES) == [
        ("agree", ()), ("counter_offer", ("amount_fen", "note")), ("refuse", ("reason",))]
    assert available_actions(FakeCase("negotiation", "requested"), "buyer", RULES) == [
        ("modify", ("amount_fen", "reason")), ("withdraw", ())]
    assert available_actions(FakeCase("negotiation", "requested", kind="return_refund"), "seller", RULES)[0] == (
        "agree", ("return_address_id",))
    assert available_actions(FakeCase("closed", "resolved"), "buyer", RULES) == []
    assert available_actions(FakeCase("negotiation", "requested"), None, RULES) == []


@pytest.mark.parametrize("task_states,tasks_done,role,actions", [
    (("awaiting_seller",), False, "seller", [("pay_refund", ())]),
    (("awaiting_seller",), False, "buyer", []),
    (("awaiting_shipment",), False, "seller", [("ship_replacement", ("carrier", "tracking_no"))]),
    (("in_transit",), False, "buyer", [("confirm_replacement", ())]),
    (("in_transit",), False, "seller", []),
    (("in_progress",), False, "seller", []),
    (("failed",), False, "buyer", []),
    (("in_progress",), False, "system", [("check", ())]),
    (("done",), True, "system", [("check", ()), ("complete", ())]),
    (("done",), True, "mediator", []),
    (("done",), True, "admin", []),
])
def test_in_execution_a_party_is_offered_only_what_a_task_waits_for(task_states, tasks_done, role, actions):
    case = FakeCase("execution", "executing", task_states=task_states, tasks_done=tasks_done)
    assert available_actions(case, role, RULES) == actions


# ---------------------------------------------------------------- limits

def test_modify_is_limited_by_max_modifications():
    case = FakeCase("negotiation", "refused")
    for n in range(RULES["max_modifications"]):
        case.modify_count = n
        case.state = "refused" if n % 2 else "countered"
        assert negotiation.PHASE.fire(case, "modify", "buyer", RULES)[1] == "requested"
    case.modify_count, case.state = RULES["max_modifications"], "refused"
    with pytest.raises(ActionNotAllowed):
        negotiation.PHASE.fire(case, "modify", "buyer", RULES)
    assert DEFAULTS["max_modifications"] == 3
    # the limit is a rules-table value
    loose = Rules({"max_modifications": 5})
    assert negotiation.PHASE.fire(case, "modify", "buyer", loose) == ("refused", "requested")


def test_evidence_period_is_extended_only_once():
    case = FakeCase("mediation", "evidence_period", evidence_party="seller")
    assert mediation.PHASE.fire(case, "extend_evidence", "mediator", RULES) == ("evidence_period", "evidence_period")
    case.evidence_extended = True  # the service's effect of the first extension
    assert "extend_evidence" not in [n for n, _ in mediation.PHASE.available_actions(case, "mediator", RULES)]
    with pytest.raises(ActionNotAllowed):
        mediation.PHASE.fire(case, "extend_evidence", "mediator", RULES)
    assert case.state == "evidence_period"


def test_a_proposal_is_accepted_only_once_both_parties_accept():
    case = FakeCase("resolution", "proposed", remedy_type="partial_refund", remedy_amount_fen=3_000)
    assert resolution.PHASE.fire(case, "accept_proposal", "seller", RULES) == ("proposed", "proposed")
    assert resolution.PHASE.deadline_for(case, RULES, NOW)[2] == "buyer"
    case.seller_accepted_at = NOW  # the service records the acceptance
    assert resolution.PHASE.deadline_for(case, RULES, NOW)[2] == "buyer"
    assert resolution.PHASE.available_actions(case, "seller", RULES) == []
    with pytest.raises(ActionNotAllowed):
        resolution.PHASE.fire(case, "accept_proposal", "seller", RULES)
    assert resolution.PHASE.fire(case, "accept_proposal", "buyer", RULES) == ("proposed", "accepted")

    buyer_first = FakeCase("resolution", "proposed")
    assert resolution.PHASE.fire(buyer_first, "accept_proposal", "buyer", RULES) == ("proposed", "proposed")
    buyer_first.buyer_accepted_at = NOW
    assert resolution.PHASE.deadline_for(buyer_first, RULES, NOW)[2] == "seller"
    assert resolution.PHASE.fire(buyer_first, "accept_proposal", "seller", RULES) == ("proposed", "accepted")


# ---------------------------------------------------------------- deadlines

# (phase, state, fake attributes, rules-table entry, default hours, on_timeout, waiting_for)
DEADLINES = [
    ("negotiation", "requested", {"order_shipped": False}, "requested_unshipped_hours", 48 * HOUR, "agree", "seller"),
    ("negotiation", "requested", {"order_shipped": True}, "requested_shipped_hours", 5 * DAY, "agree", "seller"),
    ("negotiation", "countered", {}, "buyer_reply_hours", 7 * DAY, "expire", "buyer"),
    ("negotiation", "refused", {}, "buyer_reply_hours", 7 * DAY, "expire", "buyer"),
    ("negotiation", "awaiting_return", {"kind": "return_refund"}, "awaiting_return_hours", 7 * DAY, "expire", "buyer"),
    ("negotiation", "return_in_transit", {"kind": "return_refund"}, "return_in_transit_hours", 10 * DAY,
     "confirm_received", "seller"),
    ("negotiation", "replacement_due", {"kind": "exchange"}, "replacement_due_hours", 3 * DAY,
     "fail_replacement", "seller"),
    ("negotiation", "replacement_in_transit", {"kind": "exchange"}, "replacement_in_transit_hours", 10 * DAY,
     "confirm_replacement", "buyer"),
    ("complaint", "awaiting_response", {}, "complaint_response_hours", 3 * DAY, "hand_over", "seller"),
    ("mediation", "queued", {}, "mediation_queue_hours", 24 * HOUR, "auto_assign", "mediator"),
    ("mediation", "assigned", {}, "mediation_action_hours", 24 * HOUR, "flag_overdue", "mediator"),
    ("mediation", "evidence_period", {"evidence_party": "seller"}, "evidence_period_hours", 3 * DAY,
     "close_evidence", "seller"),
    ("mediation", "evidence_period", {"evidence_party": "buyer"}, "evidence_period_hours", 3 * DAY,
     "close_evidence", "buyer"),
    ("mediation", "under_review", {}, "mediation_review_hours", 3 * DAY, "flag_overdue", "mediator"),
    ("resolution", "proposed", {}, "confirmation_hours", 3 * DAY, "accept_by_silence", "buyer"),
    ("resolution", "proposed", {"buyer_accepted_at": ACCEPTED}, "confirmation_hours", 3 * DAY,
     "accept_by_silence", "seller"),
    ("resolution", "rejected", {}, "ruling_hours", 3 * DAY, "flag_overdue", "mediator"),
    # the case in execution is looked at again daily; it waits for whomever its tasks wait for
    ("execution", "executing", {}, "execution_check_hours", 24 * HOUR, "check", "system"),
    ("execution", "executing", {"task_waiting": "seller"}, "execution_check_hours", 24 * HOUR, "check", "seller"),
    ("execution", "executing", {"task_waiting": "buyer"}, "execution_check_hours", 24 * HOUR, "check", "buyer"),
]


@pytest.mark.parametrize("phase,state,attrs,rule,hours,on_timeout,waiting", DEADLINES,
                         ids=[f"{d[0]}:{d[1]}{'|' + ','.join(f'{k}={v}' for k, v in d[2].items()) if d[2] else ''}"
                              for d in DEADLINES])
def test_deadline_of_each_open_state(phase, state, attrs, rule, hours, on_timeout, waiting):
    case = FakeCase(phase, state, **attrs)
    ph = PHASES[phase]
    chosen = ph.spec.deadline_choice(case, ph.state_spec(state), RULES) if ph.spec.deadline_choice else None
    assert (chosen or ph.state_spec(state).deadline) == rule
    assert DEFAULTS[rule] == hours
    assert ph.deadline_for(case, RULES, NOW) == (NOW + timedelta(hours=hours), on_timeout, waiting)
    # the deadline is read from the rules table, so configuration changes it
    assert ph.deadline_for(case, Rules({rule: 5}), NOW)[0] == NOW + timedelta(hours=5)
    # and the timeout trigger is one the system may fire right there
    case.remedy_amount_fen = 0
    assert on_timeout in [n for n, _ in ph.available_actions(case, "system", RULES)]
    ph.fire(case, on_timeout, "system", RULES)


def test_requested_deadline_depends_on_whether_the_order_shipped():
    unshipped, shipped = FakeCase("negotiation", "requested"), FakeCase("negotiation", "requested", order_shipped=True)
    assert negotiation.PHASE.deadline_for(unshipped, RULES, NOW)[0] == NOW + timedelta(hours=48)
    assert negotiation.PHASE.deadline_for(shipped, RULES, NOW)[0] == NOW + timedelta(days=5)


def test_every_open_state_is_in_the_deadline_table_and_has_a_deadline_and_a_waiting_party():
    covered = {(p, s) for p, s, *_ in DEADLINES}
    for name, ph in PHASES.items():
        for state in ph.spec.states:
            if state.terminal:
                assert ph.deadline_for(FakeCase(name, state.name), RULES, NOW) == (None, None, None)
                continue
            assert (name, state.name) in covered, f"{name}/{state.name} has no row in DEADLINES"
            for attrs in ({}, {"order_shipped": True, "buyer_accepted_at": ACCEPTED, "evidence_party": "both"}):
                due, on_timeout, waiting = ph.deadline_for(FakeCase(name, state.name, **attrs), RULES, NOW)
                assert due is not None and due > NOW, (name, state.name)
                assert on_timeout is not None, (name, state.name)
                assert waiting in ("buyer", "seller", "mediator", "system"), (name, state.name, waiting)


def test_every_terminal_state_hands_over_or_closes():
    """A case never rests in a phase's terminal state (it would have no deadline)."""
    for name, ph in PHASES.items():
        assert not ph.is_terminal(ph.spec.initial)
        for state in ph.spec.states:
            if state.terminal:
                assert (name, state.name) in HANDOFF, f"{name}/{state.name} is a dead end"
            else:
                assert (name, state.name) not in HANDOFF


# ---------------------------------------------------------------- links between phases

EXECUTING = ("execution", "executing")
TAKEDOWN = [{"kind": "takedown", "listing_id": 7}]


@pytest.mark.parametrize("phase,state,attrs,target", [
    ("negotiation", "agreed", {"remedy_type": "full_refund", "remedy_amount_fen": 5_000}, EXECUTING),
    ("negotiation", "agreed", {"remedy_type": "partial_refund", "remedy_amount_fen": 1}, EXECUTING),
    ("negotiation", "agreed", {"remedy_type": "return_refund", "remedy_amount_fen": 5_000}, EXECUTING),
    ("negotiation", "agreed", {"remedy_type": "compensation", "remedy_amount_fen": 800}, EXECUTING),
    # an exchange agreed in negotiation was already shipped and received there: nothing left to execute
    ("negotiation", "agreed", {"remedy_type": "exchange", "remedy_amount_fen": 0}, ("closed", "resolved")),
    ("negotiation", "escalated", {}, ("complaint", "awaiting_response")),
    ("negotiation", "withdrawn", {}, ("closed", "withdrawn")),
    ("negotiation", "expired", {}, ("closed", "expired")),
    ("complaint", "handed_over", {}, ("mediation", "queued")),
    ("complaint", "withdrawn", {}, ("closed", "withdrawn")),
    ("mediation", "proposed", {"remedy_type": "partial_refund", "remedy_amount_fen": 3_000},
     ("resolution", "proposed")),
    ("mediation", "proposed", {"remedy_type": "dismiss"}, ("resolution", "proposed")),
    ("mediation", "withdrawn", {}, ("closed", "withdrawn")),
    ("resolution", "accepted", {"remedy_type": "partial_refund", "remedy_amount_fen": 3_000}, EXECUTING),
    ("resolution", "ruled", {"remedy_type": "full_refund", "remedy_amount_fen": 9_000}, EXECUTING),
    ("resolution", "accepted", {"remedy_type": "compensation", "remedy_amount_fen": 500}, EXECUTING),
    # a mediated exchange still has to be shipped: execution tracks the replacement
    ("resolution", "accepted", {"remedy_type": "exchange", "remedy_amount_fen": 0}, EXECUTING),
    ("resolution", "ruled", {"remedy_type": "exchange", "remedy_amount_fen": 0}, EXECUTING),
    ("resolution", "accepted", {"remedy_type": "dismiss"}, ("closed", "dismissed")),
    ("resolution", "ruled", {"remedy_type": "dismiss"}, ("closed", "dismissed")),
    ("resolution", "accepted", {"remedy_type": "dismiss", "remedy_amount_fen": 5_000}, ("closed", "dismissed")),
    # nothing to pay (e.g. a listing complaint without an order) and no penalty: resolved at once
    ("resolution", "accepted", {"remedy_type": "full_refund", "remedy_amount_fen": 0}, ("closed", "resolved")),
    # penalties are carried out by execution tasks, even when no money moves
    ("resolution", "accepted", {"remedy_type": "full_refund", "remedy_amount_fen": 0, "penalties": TAKEDOWN},
     EXECUTING),
    ("resolution", "ruled", {"remedy_type": "dismiss", "penalties": [{"kind": "points", "points": 6}]}, EXECUTING),
    ("execution", "done", {"remedy_type": "full_refund", "remedy_amount_fen": 9_000}, ("closed", "resolved")),
])
def test_next_phase(phase, state, attrs, target):
    assert next_phase(FakeCase(phase, state, **attrs)) == target


def test_open_states_do_not_move_to_another_phase():
    for name, ph in PHASES.items():
        for state in ph.spec.states:
            if not state.terminal:
                assert next_phase(FakeCase(name, state.name, remedy_type="full_refund", remedy_amount_fen=1)) is None
    assert next_phase(FakeCase("closed", "resolved")) is None


def test_each_phase_entered_by_a_handoff_starts_in_its_initial_state():
    assert {name: ph.spec.initial for name, ph in PHASES.items()} == {
        "negotiation": "requested", "complaint": "awaiting_response", "mediation": "queued",
        "resolution": "proposed", "execution": "executing"}


# ---------------------------------------------------------------- DOMAIN.md, literally

# Every move DOMAIN.md describes, as (phase, source, trigger, destination), with the
# trigger names the API uses (DOMAIN.md's "accept" of a counter-offer is `accept_offer`).
DOMAIN_MOVES = [
    # 1. Negotiation — the first table
    ("negotiation", "requested", "agree", "agreed"),             # refund_only / compensation
    ("negotiation", "requested", "agree", "awaiting_return"),    # return / exchange
    ("negotiation", "requested", "counter_offer", "countered"),
    ("negotiation", "requested", "refuse", "refused"),
    ("negotiation", "countered", "accept_offer", "agreed"),
    ("negotiation", "countered", "modify", "requested"),
    ("negotiation", "countered", "escalate", "escalated"),       # → complaint
    ("negotiation", "refused", "modify", "requested"),
    ("negotiation", "refused", "escalate", "escalated"),
    ("negotiation", "awaiting_return", "ship_return", "return_in_transit"),
    ("negotiation", "return_in_transit", "confirm_received", "agreed"),
    ("negotiation", "return_in_transit", "confirm_received", "replacement_due"),
    ("negotiation", "return_in_transit", "reject_return", "refused"),
    ("negotiation", "replacement_due", "ship_replacement", "replacement_in_transit"),
    ("negotiation", "replacement_in_transit", "confirm_replacement", "agreed"),
    *[("negotiation", s, "withdraw", "withdrawn") for s in (
        "requested", "countered", "refused", "awaiting_return", "return_in_transit", "replacement_due",
        "replacement_in_transit")],
    # 1. Negotiation — the timeout table
    ("negotiation", "countered", "expire", "expired"),
    ("negotiation", "refused", "expire", "expired"),
    ("negotiation", "awaiting_return", "expire", "expired"),
    # 2. Complaint: filed → awaiting_response → (responded) → handed to mediation, or withdrawn; 3 days
    ("complaint", "awaiting_response", "respond", "handed_over"),
    ("complaint", "awaiting_response", "hand_over", "handed_over"),
    ("complaint", "awaiting_response", "withdraw", "withdrawn"),
    # 3. Mediation: queued → assigned → evidence_period → under_review → (resolution)
    ("mediation", "queued", "assign", "assigned"),
    ("mediation", "assigned", "request_evidence", "evidence_period"),
    ("mediation", "under_review", "request_evidence", "evidence_period"),
    ("mediation", "evidence_period", "extend_evidence", "evidence_period"),   # extendable once
    ("mediation", "evidence_period", "close_evidence", "under_review"),       # the 3-day period ends
    ("mediation", "evidence_period", "start_review", "under_review"),
    ("mediation", "under_review", "propose", "proposed"),                     # → resolution
    # 4. Resolution: both confirm within 3 days (silence = acceptance); a rejection → final ruling
    ("resolution", "proposed", "accept_proposal", "accepted"),
    ("resolution", "proposed", "reject_proposal", "rejected"),
    ("resolution", "proposed", "accept_by_silence", "accepted"),
    ("resolution", "rejected", "rule", "ruled"),
    # 5. Execution: the case is done when its tasks are (the task moves: tests/workflows/test_tasks.py)
    ("execution", "executing", "complete", "done"),
]

# Each timeout of DOMAIN.md's timeout table: (phase, state, what the system fires).
DOMAIN_TIMEOUTS = [
    ("negotiation", "requested", "agree"),
    ("negotiation", "countered", "expire"),
    ("negotiation", "refused", "expire"),
    ("negotiation", "awaiting_return", "expire"),
    ("negotiation", "return_in_transit", "confirm_received"),
    ("negotiation", "replacement_in_transit", "confirm_replacement"),
    ("complaint", "awaiting_response", "hand_over"),
    ("mediation", "evidence_period", "close_evidence"),
    ("resolution", "proposed", "accept_by_silence"),
    # execution's timeout (the seller does not pay → 先行垫付) belongs to the task: tests/workflows/test_tasks.py
]


def test_the_tables_cover_every_move_domain_md_lists():
    declared = {(name, source, tr.trigger, tr.dest if tr.dest != "=" else source)
                for name, ph in PHASES.items() for tr in ph.spec.transitions for source in tr.source}
    assert [m for m in DOMAIN_MOVES if m not in declared] == []
    assert {(p, t) for p, _, t, _ in DOMAIN_MOVES} <= {(p, t) for p, _, t, _ in declared}


def test_the_tables_fire_every_timeout_domain_md_lists():
    for phase, state, trigger in DOMAIN_TIMEOUTS:
        spec = PHASES[phase].state_spec(state)
        assert spec.on_timeout == trigger, (phase, state)
        assert "system" in next(tr.roles for tr in PHASES[phase].spec.transitions
                                if tr.trigger == trigger and state in tr.source)


def test_phase_modules_expose_their_spec_and_phase():
    for module in (negotiation, complaint, mediation, resolution, execution):
        assert module.PHASE.spec is module.SPEC
        assert PHASES[module.SPEC.name] is module.PHASE
