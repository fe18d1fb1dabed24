"""Phase 2 — complaint (投诉): the seller responds with evidence, then the platform mediates.

| state             | who acts | moves                                                     |
|-------------------|----------|-----------------------------------------------------------|
| awaiting_response | seller   | respond → handed_over (→ mediation) · buyer: withdraw → withdrawn |

The seller has `complaint_response_hours` (3 days); silence hands the case to mediation."""
from .engine import Phase
from .spec import PhaseSpec, StateSpec, t

SPEC = PhaseSpec(
    name="complaint",
    initial="awaiting_response",
    states=(
        StateSpec("awaiting_response", "seller", "complaint_response_hours", "hand_over"),
        StateSpec("handed_over", terminal=True),  # → mediation
        StateSpec("withdrawn", terminal=True),
    ),
    transitions=(
        t("respond", "awaiting_response", "handed_over", "seller", fields=("statement",)),
        t("hand_over", "awaiting_response", "handed_over", "system"),
        t("withdraw", "awaiting_response", "withdrawn", "buyer"),
    ),
)

PHASE = Phase(SPEC)
