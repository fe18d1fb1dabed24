"""Phase 3 — platform mediation (平台介入调解).

| state           | who acts | moves                                                              |
|-----------------|----------|--------------------------------------------------------------------|
| queued          | mediator | assign → assigned (the mediator takes it)                          |
| assigned        | mediator | request_evidence → evidence_period · start_review → under_review   |
| evidence_period | parties  | mediator: extend_evidence (once) · start_review → under_review     |
| under_review    | mediator | propose → proposed (→ resolution) · request_evidence → evidence_period |
| any open state  | buyer    | withdraw → withdrawn                                               |

Timeouts: an unassigned case is auto-assigned to the least busy mediator; an evidence
period closes into review; a mediator who lets a deadline pass is flagged overdue
(`flag_overdue`, a system message and a new deadline) — the system never decides for them.
When an admin deactivates the mediator, `reassign` hands the case, in the same state, to another one."""
from .engine import Phase
from .spec import PhaseSpec, StateSpec, t

OPEN = ("queued", "assigned", "evidence_period", "under_review")
# what a mediator decides with a proposal (and, in resolution, a final ruling)
DECISION_FIELDS = ("remedy", "amount_fen", "findings", "rule", "penalties", "buyer_malicious")


def evidence_not_extended(case, data, rules):
    return not case.evidence_extended


def evidence_waits_for(case):
    return case.evidence_party if case.evidence_party in ("buyer", "seller") else "system"


SPEC = PhaseSpec(
    name="mediation",
    initial="queued",
    states=(
        StateSpec("queued", "mediator", "mediation_queue_hours", "auto_assign"),
        StateSpec("assigned", "mediator", "mediation_action_hours", "flag_overdue"),
        StateSpec("evidence_period", evidence_waits_for, "evidence_period_hours", "close_evidence"),
        StateSpec("under_review", "mediator", "mediation_review_hours", "flag_overdue"),
        StateSpec("proposed", terminal=True),  # → resolution
        StateSpec("withdrawn", terminal=True),
    ),
    transitions=(
        t("assign", "queued", "assigned", "mediator"),
        t("auto_assign", "queued", "assigned", "system"),
        t("request_evidence", ("assigned", "under_review"), "evidence_period", "mediator", fields=("party", "note")),
        t("extend_evidence", "evidence_period", "evidence_period", "mediator", fields=("note",),
          guards=(evidence_not_extended,)),
        t("close_evidence", "evidence_period", "under_review", "system"),
        t("start_review", ("assigned", "evidence_period"), "under_review", "mediator"),
        t("propose", "under_review", "proposed", "mediator", fields=DECISION_FIELDS),
        t("flag_overdue", ("assigned", "under_review"), "=", "system"),
        # an admin deactivated the mediator: the case goes, as it is, to another (app/cases/services.py)
        t("reassign", ("assigned", "evidence_period", "under_review"), "=", "system"),
        t("withdraw", OPEN, "withdrawn", "buyer"),
    ),
)

PHASE = Phase(SPEC)
