"""Phase 5 — execution (执行): the remedy is carried out with real money movements.

| state                   | who acts | moves                                                     |
|-------------------------|----------|-----------------------------------------------------------|
| pending                 | system   | execute → done (escrow covers it) / awaiting_seller_payment (money already released) |
| awaiting_seller_payment | seller   | pay_refund → done · timeout: advance (先行垫付) → done     |

`pending` is fired right after the commit that enters it, and retried by the sweeper."""
from .engine import Phase
from .spec import PhaseSpec, StateSpec, t


def escrow_covers(case, data, rules):
    return case.escrow_fen >= case.remedy_amount_fen


def escrow_short(case, data, rules):
    return not escrow_covers(case, data, rules)


SPEC = PhaseSpec(
    name="execution",
    initial="pending",
    states=(
        StateSpec("pending", "system", "execution_retry_hours", "execute"),
        StateSpec("awaiting_seller_payment", "seller", "seller_refund_hours", "advance"),
        StateSpec("done", terminal=True),  # → closed / resolved
    ),
    transitions=(
        t("execute", "pending", "done", "system", guards=(escrow_covers,)),
        t("execute", "pending", "awaiting_seller_payment", "system", guards=(escrow_short,)),
        t("pay_refund", "awaiting_seller_payment", "done", "seller"),
        t("advance", "awaiting_seller_payment", "done", "system"),
    ),
)

PHASE = Phase(SPEC)
