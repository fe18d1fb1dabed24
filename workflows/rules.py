"""The rules table: every deadline and limit, with DOMAIN.md's defaults.

Deadlines are in hours. Override any entry by configuration (`RULES` in the app config,
or the TIAOJIE_RULES environment variable as JSON)."""
from types import MappingProxyType

DEFAULTS = MappingProxyType({
    # orders
    "default_ship_within_hours": 48,        # promised ship time (发货承诺)
    "order_auto_confirm_hours": 10 * 24,    # receipt auto-confirmed 10 days after shipping
    "after_sales_window_hours": 15 * 24,    # after-sales requests on completed orders
    # negotiation (售后申请): how long each party has before the system acts
    "requested_unshipped_hours": 48,        # seller silent, order not shipped → auto agree
    "requested_shipped_hours": 5 * 24,      # seller silent, order shipped → auto agree
    "buyer_reply_hours": 7 * 24,            # countered / refused: buyer silent → request closes
    "awaiting_return_hours": 7 * 24,        # buyer never ships the return → request closes
    "return_in_transit_hours": 10 * 24,     # seller never confirms the return → auto agree
    "replacement_due_hours": 3 * 24,        # seller never ships the replacement → refund instead
    "replacement_in_transit_hours": 10 * 24,  # buyer silent → replacement confirmed
    # complaint (投诉)
    "complaint_response_hours": 3 * 24,     # seller's time to respond with evidence
    # mediation (平台介入)
    "mediation_queue_hours": 24,            # unassigned → auto-assigned to the least busy mediator
    "mediation_action_hours": 24,           # assigned, no step → flagged overdue
    "evidence_period_hours": 3 * 24,        # evidence period (extendable once)
    "mediation_review_hours": 3 * 24,       # under review, no proposal → flagged overdue
    # resolution (解决方案 + 确认)
    "confirmation_hours": 3 * 24,           # parties' time to confirm; silence = acceptance
    "ruling_hours": 3 * 24,                 # after a rejection, mediator's time to rule
    # execution (执行)
    "task_start_hours": 0,                  # a new task is due at once: its job runs it after the commit,
                                            # or the sweeper does if the job was lost (broker down)
    "execution_retry_hours": 1,             # a failed execution step is retried by the sweeper
    "seller_refund_hours": 48,              # seller pays a refund whose money was released
    "execution_check_hours": 24,            # a case in execution is looked at again at least this often
    "recovery_retry_hours": 24,             # an advance still owed is taken again from the shop
    "max_task_attempts": 5,                 # a failing execution step is retried this often, then shows failed
    # late-shipment compensation (延迟发货赔付): a share of the item price, within bounds
    "late_shipment_percent": 5,
    "late_shipment_min_fen": 500,
    "late_shipment_max_fen": 3000,
    # seller service metrics (卖家服务质量): the rolling window the figures and category averages cover
    "metrics_window_days": 30,
    # limits
    "max_modifications": 3,                 # times a buyer may modify a refused/countered request
    "max_open_cases_per_order": 1,
    "max_cases_per_order": 5,
    "max_open_complaints_per_listing": 1,        # open complaints by one buyer about one listing
    "max_open_listing_complaints_per_buyer": 3,  # open complaints by one buyer about listings, all shops
    "no_reason_return_hours": 7 * 24,       # 7天无理由: counted from delivery (or shipping)
    # the mediator overview (/overview): medians, breaches and closed cases count over this many days
    "overview_window_days": 30,
    # penalty points (扣分, workflows/penalties.py): Taobao's serious-violation scale — every 12 points in
    # force restrict the shop (no new listings, no new orders) for 7 days per 12 (12 → 7, 24 → 14,
    # 36 → 21 days); 48 points close it (查封, blacklisted). Points count for a rolling year (Taobao
    # zeroes them every 31 December; a rolling window has no new-year cliff).
    "penalty_restrict_points": 12,
    "penalty_restrict_days": 7,
    "penalty_blacklist_points": 48,
    "penalty_points_expire_days": 365,
    # buyer credit (买家信用): the credit page's recent figures, and the malicious-refund flag the system sets
    "credit_window_days": 90,               # the rolling window of a buyer's recent figures and of the threshold
    "credit_flag_dismissed": 3,             # claims dismissed by a binding mediator decision within the window
                                            # that flag the buyer (no platform advances); 0: never by count
    # the reason codes each after-sales kind accepts (API.md lists the codes)
    "reasons": MappingProxyType({
        "refund_only": ("not_received", "not_as_described", "quality", "damaged", "wrong_item",
                        "missing_parts", "late_shipment", "other"),
        "return_refund": ("not_as_described", "quality", "damaged", "wrong_item", "missing_parts",
                          "no_reason_7d", "other"),
        "exchange": ("not_as_described", "quality", "damaged", "wrong_item", "missing_parts", "other"),
        "compensation": ("late_shipment", "not_as_described", "quality", "damaged", "missing_parts", "other"),
    }),
})

COMPLAINT_TYPES = ("not_shipped", "broken_promise", "not_as_described", "quality", "off_platform_payment",
                   "abuse", "listing_violation")
REMEDIES = ("full_refund", "partial_refund", "return_refund", "exchange", "compensation", "dismiss")


class Rules:
    def __init__(self, overrides=None):
        unknown = set(overrides or {}) - set(DEFAULTS)
        if unknown:
            raise KeyError(f"unknown rules: {', '.join(sorted(unknown))}")
        self._values = {**DEFAULTS, **(overrides or {})}

    def __getitem__(self, key):
        return self._values[key]

    def items(self):
        return self._values.items()

    def is_default(self, key):
        return self._values[key] == DEFAULTS[key]
