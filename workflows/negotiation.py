"""Phase 1 — negotiation: the after-sales request (售后申请), DOMAIN.md's first table.

| state                  | who acts | moves                                                          |
|------------------------|----------|----------------------------------------------------------------|
| requested              | seller   | agree → agreed (refund_only/compensation) or awaiting_return (return/exchange, with a return address) · counter_offer → countered · refuse → refused |
|                        | buyer    | modify → requested (while the seller has not answered; same limited count; the seller's time restarts) |
| countered              | buyer    | accept_offer → agreed · modify → requested · escalate → complaint |
| refused                | buyer    | modify → requested (limited count) · escalate → complaint      |
| awaiting_return        | buyer    | ship_return → return_in_transit                                |
| return_in_transit      | seller   | confirm_received → agreed (refund) / replacement_due (exchange) · reject_return → refused |
| replacement_due        | seller   | ship_replacement → replacement_in_transit                      |
| replacement_in_transit | buyer    | confirm_replacement → agreed                                   |
| any open state         | buyer    | withdraw → withdrawn                                           |

Deadlines (rules table) and what the system does when they pass are on each StateSpec."""
from .engine import Phase
from .spec import PhaseSpec, StateSpec, t

OPEN = ("requested", "countered", "refused", "awaiting_return", "return_in_transit", "replacement_due",
        "replacement_in_transit")


def refund_kind(case, data, rules):
    return case.kind in ("refund_only", "compensation")


def goods_back_kind(case, data, rules):
    return case.kind in ("return_refund", "exchange")


def is_return(case, data, rules):
    return case.kind == "return_refund"


def is_exchange(case, data, rules):
    return case.kind == "exchange"


def may_modify(case, data, rules):
    return case.modify_count < rules["max_modifications"]


def requested_deadline(case, state, rules):
    return "requested_shipped_hours" if case.order_shipped else "requested_unshipped_hours"


SPEC = PhaseSpec(
    name="negotiation",
    initial="requested",
    deadline_choice=lambda case, state, rules: (
        requested_deadline(case, state, rules) if state.name == "requested" else state.deadline),
    states=(
        StateSpec("requested", "seller", "requested_unshipped_hours", "agree"),
        StateSpec("countered", "buyer", "buyer_reply_hours", "expire"),
        StateSpec("refused", "buyer", "buyer_reply_hours", "expire"),
        StateSpec("awaiting_return", "buyer", "awaiting_return_hours", "expire"),
        StateSpec("return_in_transit", "seller", "return_in_transit_hours", "confirm_received"),
        StateSpec("replacement_due", "seller", "replacement_due_hours", "fail_replacement"),
        StateSpec("replacement_in_transit", "buyer", "replacement_in_transit_hours", "confirm_replacement"),
        StateSpec("agreed", terminal=True),      # → execution
        StateSpec("escalated", terminal=True),   # → complaint
        StateSpec("withdrawn", terminal=True),
        StateSpec("expired", terminal=True),
    ),
    transitions=(
        t("agree", "requested", "agreed", ("seller", "system"), guards=(refund_kind,)),
        t("agree", "requested", "awaiting_return", ("seller", "system"), fields=("return_address_id",),
          guards=(goods_back_kind,)),
        t("counter_offer", "requested", "countered", "seller", fields=("amount_fen", "note")),
        t("refuse", "requested", "refused", "seller", fields=("reason",)),
        t("accept_offer", "countered", "agreed", "buyer"),
        t("modify", ("requested", "countered", "refused"), "requested", "buyer", fields=("amount_fen", "reason"),
          guards=(may_modify,)),
        t("escalate", ("countered", "refused"), "escalated", "buyer", fields=("type", "description")),
        t("ship_return", "awaiting_return", "return_in_transit", "buyer", fields=("carrier", "tracking_no")),
        t("confirm_received", "return_in_transit", "agreed", ("seller", "system"), guards=(is_return,)),
        t("confirm_received", "return_in_transit", "replacement_due", ("seller", "system"), guards=(is_exchange,)),
        t("reject_return", "return_in_transit", "refused", "seller", fields=("reason",)),
        t("ship_replacement", "replacement_due", "replacement_in_transit", "seller",
          fields=("carrier", "tracking_no")),
        t("fail_replacement", "replacement_due", "agreed", "system"),
        t("confirm_replacement", "replacement_in_transit", "agreed", ("buyer", "system")),
        t("withdraw", OPEN, "withdrawn", "buyer"),
        t("expire", ("countered", "refused", "awaiting_return"), "expired", "system"),
    ),
)

PHASE = Phase(SPEC)
