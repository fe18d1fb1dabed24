"""How the five phases link into one case life cycle, and the closed 'phase'.

negotiate → complain → mediation → resolution → execution; a phase's terminal state
hands the case to the next phase (or closes it). The service applies `next_phase` after
every transition."""
from . import complaint, execution, mediation, negotiation, resolution

PHASES = {p.name: p for p in (negotiation.PHASE, complaint.PHASE, mediation.PHASE, resolution.PHASE,
                              execution.PHASE)}
CLOSED_STATES = ("resolved", "withdrawn", "expired", "dismissed")

HANDOFF = {
    ("negotiation", "agreed"): "execution",
    ("negotiation", "escalated"): "complaint",
    ("negotiation", "withdrawn"): ("closed", "withdrawn"),
    ("negotiation", "expired"): ("closed", "expired"),
    ("complaint", "handed_over"): "mediation",
    ("complaint", "withdrawn"): ("closed", "withdrawn"),
    ("mediation", "proposed"): "resolution",
    ("mediation", "withdrawn"): ("closed", "withdrawn"),
    ("resolution", "accepted"): "execution",
    ("resolution", "ruled"): "execution",
    ("execution", "done"): ("closed", "resolved"),
}


def next_phase(case):
    """(phase, state) the case moves to after reaching a phase's terminal state, else None."""
    target = HANDOFF.get((case.phase, case.state))
    if target == ("closed", "resolved") and case.remedy_type == "dismiss":
        return "closed", "dismissed"  # a dismissal whose penalties were carried out
    if target is None or isinstance(target, tuple):
        return target
    if target == "execution":
        money = case.remedy_amount_fen and case.remedy_type != "dismiss"
        exchange = case.remedy_type == "exchange" and case.phase != "negotiation"  # not already done there
        if not (money or exchange or case.penalties):
            return "closed", "dismissed" if case.remedy_type == "dismiss" else "resolved"
    return target, PHASES[target].spec.initial


def is_open(case):
    return case.phase != "closed"


def available_actions(case, role, rules):
    if not is_open(case) or role is None:
        return []
    return PHASES[case.phase].available_actions(case, role, rules)
