"""The order life cycle: created → paid → shipped → delivered → completed, or closed.

| state     | who acts | moves                                                        |
|-----------|----------|--------------------------------------------------------------|
| created   | buyer    | pay → paid · close (buyer/seller) → closed                   |
| paid      | seller   | ship → shipped · close (seller cancels, full refund) → closed|
| shipped   | buyer    | deliver (carrier signed) → delivered · confirm_receipt → completed |
| delivered | buyer    | confirm_receipt → completed                                  |

Receipt is auto-confirmed `order_auto_confirm_hours` after shipping (the sweeper fires
`auto_confirm`), unless an open after-sales case freezes the order."""
from .engine import Phase
from .spec import PhaseSpec, StateSpec, t


def not_frozen(order, data, rules):
    return not getattr(order, "is_frozen", False)


SPEC = PhaseSpec(
    name="order",
    initial="created",
    attribute="status",
    states=(
        StateSpec("created", waiting_for="buyer"),
        StateSpec("paid", waiting_for="seller"),
        StateSpec("shipped", waiting_for="buyer", deadline="order_auto_confirm_hours", on_timeout="auto_confirm"),
        StateSpec("delivered", waiting_for="buyer"),
        StateSpec("completed", terminal=True),
        StateSpec("closed", terminal=True),
    ),
    transitions=(
        t("pay", "created", "paid", "buyer"),
        t("ship", "paid", "shipped", "seller", fields=("carrier", "tracking_no")),
        t("deliver", "shipped", "delivered", ("system", "seller")),
        t("confirm_receipt", ("shipped", "delivered"), "completed", "buyer", guards=(not_frozen,)),
        t("auto_confirm", ("shipped", "delivered"), "completed", "system", guards=(not_frozen,)),
        t("close", "created", "closed", ("buyer", "seller", "system")),
        t("close", "paid", "closed", "seller", guards=(not_frozen,)),
        t("refund_close", ("paid", "shipped", "delivered", "completed"), "closed", "system"),  # fully refunded
    ),
)

PHASE = Phase(SPEC)
