"""Phase 4 — resolution (解决方案 + 双方确认).

| state    | who acts        | moves                                                          |
|----------|-----------------|----------------------------------------------------------------|
| proposed | buyer, seller   | accept_proposal (both → accepted) · reject_proposal → rejected |
| rejected | mediator        | rule (final ruling, 裁定) → ruled                              |

Silence within `confirmation_hours` counts as acceptance (`accept_by_silence`).
accepted / ruled hand the remedy to execution (or close the case when dismissed)."""
from .engine import Phase
from .mediation import DECISION_FIELDS
from .spec import PhaseSpec, StateSpec, t


def other_party_accepted(case, data, rules):
    return (case.seller_accepted_at if data.get("_role") == "buyer" else case.buyer_accepted_at) is not None


def other_party_pending(case, data, rules):
    return not other_party_accepted(case, data, rules)


def not_yet_accepted_by_caller(case, data, rules):
    return (case.buyer_accepted_at if data.get("_role") == "buyer" else case.seller_accepted_at) is None


def proposal_waits_for(case):
    return "buyer" if case.buyer_accepted_at is None else "seller"


SPEC = PhaseSpec(
    name="resolution",
    initial="proposed",
    states=(
        StateSpec("proposed", proposal_waits_for, "confirmation_hours", "accept_by_silence"),
        StateSpec("rejected", "mediator", "ruling_hours", "flag_overdue"),
        StateSpec("accepted", terminal=True),  # → execution
        StateSpec("ruled", terminal=True),     # → execution
    ),
    transitions=(
        t("accept_proposal", "proposed", "accepted", ("buyer", "seller"),
          guards=(not_yet_accepted_by_caller, other_party_accepted)),
        t("accept_proposal", "proposed", "=", ("buyer", "seller"),
          guards=(not_yet_accepted_by_caller, other_party_pending)),
        t("reject_proposal", "proposed", "rejected", ("buyer", "seller"), fields=("reason",),
          guards=(not_yet_accepted_by_caller,)),
        t("accept_by_silence", "proposed", "accepted", "system"),
        t("rule", "rejected", "ruled", "mediator", fields=DECISION_FIELDS),
        t("flag_overdue", "rejected", "=", "system"),
        t("reassign", ("proposed", "rejected"), "=", "system"),  # the mediator was deactivated (see mediation.py)
    ),
)

PHASE = Phase(SPEC)
