"""Human labels for codes (statuses, categories, roles …), translated by Flask-Babel."""
from flask_babel import lazy_gettext as _l

LABELS = {
    "order_status": {
        "created": _l("Awaiting payment"), "paid": _l("Paid, awaiting shipment"), "shipped": _l("Shipped"),
        "delivered": _l("Delivered"), "completed": _l("Completed"), "closed": _l("Closed"),
    },
    "category": {
        "apparel": _l("Apparel"), "electronics": _l("Electronics"), "home": _l("Home"), "food": _l("Food"),
        "beauty": _l("Beauty"), "books": _l("Books"), "sports": _l("Sports"), "toys": _l("Toys"),
    },
    "role": {
        "buyer": _l("Buyer"), "seller": _l("Seller"), "mediator": _l("Mediator"), "admin": _l("Admin"),
        "system": _l("System"),
    },
    "promise": {
        "no_reason_7d": _l("7-day no-reason return"), "ship_48h": _l("Ships within 48 h"),
        "genuine_guarantee": _l("Genuine guarantee"), "free_return_shipping": _l("Free return shipping"),
    },
    "entry_kind": {
        "pay": _l("Payment into escrow"), "release": _l("Escrow released to seller"), "refund": _l("Refund"),
        "deposit": _l("Shop deposit"), "fund": _l("Guarantee fund"), "seller_refund": _l("Refund paid by the seller"),
        "advance": _l("Platform advance payment"), "receivable": _l("Receivable from the shop"),
        "recovery": _l("Advance recovered from the shop"), "receivable_settled": _l("Receivable settled"),
        "compensation": _l("Compensation"), "late_compensation": _l("Late-shipment compensation"),
    },
    "carrier": {
        "sf": _l("SF Express"), "zto": _l("ZTO Express"), "yto": _l("YTO Express"), "sto": _l("STO Express"),
        "yunda": _l("Yunda Express"), "jd": _l("JD Logistics"), "ems": _l("China Post EMS"),
    },
    "phase": {
        "order": _l("Order"), "negotiation": _l("Negotiation"), "complaint": _l("Complaint"),
        "mediation": _l("Platform mediation"), "resolution": _l("Resolution"), "execution": _l("Execution"),
        "closed": _l("Case closed"),
    },
    "kind": {
        "refund_only": _l("Refund only"), "return_refund": _l("Return and refund"), "exchange": _l("Exchange"),
        "compensation": _l("Compensation"), "complaint": _l("Complaint"),
    },
    "reason": {
        "not_received": _l("Not received"), "not_as_described": _l("Not as described"), "quality": _l("Quality problem"),
        "damaged": _l("Damaged"), "wrong_item": _l("Wrong item"), "missing_parts": _l("Missing parts"),
        "no_reason_7d": _l("7-day no-reason return"), "late_shipment": _l("Late shipment"), "other": _l("Other"),
    },
    "complaint_type": {
        "not_shipped": _l("Paid but not shipped"), "broken_promise": _l("Broken service promise"),
        "not_as_described": _l("Not as described"), "quality": _l("Quality problem"),
        "off_platform_payment": _l("Refused platform payment / off-platform"), "abuse": _l("Abuse or harassment"),
        "listing_violation": _l("Listing violation"),
    },
    "party": {"buyer": _l("Buyer"), "seller": _l("Seller"), "both": _l("Both parties")},
    "remedy": {
        "full_refund": _l("Full refund"), "partial_refund": _l("Partial refund"), "return_refund": _l("Return and refund"),
        "exchange": _l("Exchange"), "compensation": _l("Compensation"), "dismiss": _l("Dismiss"),
    },
    "evidence_kind": {
        "photo": _l("Photo"), "chat_screenshot": _l("Chat screenshot"), "shipping_proof": _l("Shipping proof"),
        "video": _l("Video"), "document": _l("Document"), "chat_export": _l("Chat export"),
    },
    "trigger": {
        "open": _l("Request filed"), "file": _l("Complaint filed"), "agree": _l("Agree"),
        "counter_offer": _l("Counter-offer"), "refuse": _l("Refuse"), "accept_offer": _l("Accept the offer"),
        "modify": _l("Modify the request"), "escalate": _l("Complain to the platform"),
        "ship_return": _l("Ship the return"), "confirm_received": _l("Confirm the return arrived"),
        "reject_return": _l("Reject the return"), "ship_replacement": _l("Ship the replacement"),
        "fail_replacement": _l("Replacement not shipped in time"), "confirm_replacement": _l("Confirm the replacement"),
        "withdraw": _l("Withdraw"), "expire": _l("Expired"), "respond": _l("Respond with evidence"),
        "hand_over": _l("Handed to the platform"), "assign": _l("Take the case"), "auto_assign": _l("Assigned"),
        "reassign": _l("Handed to another mediator"),
        "request_evidence": _l("Request evidence"), "extend_evidence": _l("Extend the evidence period"),
        "close_evidence": _l("Evidence period ended"), "start_review": _l("Start the review"),
        "propose": _l("Propose a solution"), "flag_overdue": _l("Flagged overdue"),
        "accept_proposal": _l("Accept the proposal"), "reject_proposal": _l("Reject the proposal"),
        "accept_by_silence": _l("Accepted by silence"), "rule": _l("Final ruling"), "execute": _l("Carry out"),
        "pay_refund": _l("Pay the refund"), "advance": _l("Platform advance payment"),
        "check": _l("Execution checked"), "complete": _l("Execution complete"),
        "upload_evidence": _l("Evidence uploaded"),
    },
    "case_state": {
        "requested": _l("Awaiting the seller"), "countered": _l("Seller made a counter-offer"),
        "refused": _l("Seller refused"), "awaiting_return": _l("Awaiting the return shipment"),
        "return_in_transit": _l("Return in transit"), "replacement_due": _l("Awaiting the replacement"),
        "replacement_in_transit": _l("Replacement in transit"), "agreed": _l("Agreed"),
        "escalated": _l("Escalated"), "withdrawn": _l("Withdrawn"), "expired": _l("Expired"),
        "awaiting_response": _l("Awaiting the seller's response"), "handed_over": _l("Handed to the platform"),
        "queued": _l("In the mediation queue"), "assigned": _l("Assigned to a mediator"),
        "evidence_period": _l("Evidence period"), "under_review": _l("Under review"),
        "proposed": _l("Proposal awaiting confirmation"), "rejected": _l("Proposal rejected"),
        "accepted": _l("Accepted"), "ruled": _l("Ruled"), "pending": _l("Being carried out"),
        "awaiting_seller_payment": _l("Awaiting the seller's payment"), "done": _l("Done"),
        "executing": _l("Being carried out"),
        "resolved": _l("Resolved"), "dismissed": _l("Dismissed"),
    },
    "task_kind": {
        "refund": _l("Refund"), "compensation": _l("Compensation"), "exchange": _l("Exchange"),
        "recovery": _l("Recovery of the advance"), "penalty": _l("Penalty"),
    },
    "task_state": {
        "pending": _l("Waiting to run"), "in_progress": _l("In progress"), "awaiting_seller": _l("Awaiting the seller"),
        "awaiting_shipment": _l("Awaiting the replacement shipment"), "in_transit": _l("Replacement in transit"),
        "failed": _l("Failed"), "done": _l("Done"),
    },
    "task_trigger": {
        "start": _l("Run"), "keep": _l("Try again"), "advance": _l("Platform advance payment"), "fail": _l("Mark failed"),
        "confirm_replacement": _l("Confirm the replacement"), "retry": _l("Retry"),
    },
    "paid_by": {"escrow": _l("escrow"), "seller": _l("the seller"), "platform": _l("the platform (advance)")},
    "penalty": {
        "takedown": _l("Listing taken down"), "points": _l("Points deducted"), "restrict": _l("Selling restricted"),
        "blacklist": _l("Blacklisted"),
    },
    "field": {"kind": _l("What the buyer asks")},
    "standing_action": {  # admin audit actions on a shop's standing (app/penalties)
        "shop.restrict": _l("Restricted: points threshold crossed"),
        "shop.blacklist": _l("Blacklisted: points threshold crossed"),
        "shop.lift_restriction": _l("Restriction lifted by an admin"),
        "shop.remove_blacklist": _l("Blacklist removed by an admin"),
    },
    "penalty_choice": {
        "takedown": _l("Take down a listing"), "points": _l("Deduct points"), "restrict": _l("Restrict selling (days)"),
        "blacklist": _l("Blacklist the shop"),
    },
    "waiting": {
        "buyer": _l("Waiting for the buyer"), "seller": _l("Waiting for the seller"),
        "mediator": _l("Waiting for the mediator"), "system": _l("Being carried out by the system"),
    },
    "confirmation": {"accepted": _l("Confirmed"), "pending": _l("Awaiting confirmation"), "rejected": _l("Rejected"),
                     "not_needed": _l("No longer needed: the mediator rules")},
    "shipment_status": {"in_transit": _l("In transit"), "signed": _l("Signed for")},
    "direction": {"forward": _l("To buyer"), "return": _l("Return"), "replacement": _l("Replacement")},
    "rule": {  # the rules table (workflows/rules.py DEFAULTS), by name; tests/admin/test_console_polish.py
        "default_ship_within_hours": _l("Promised shipping time"),
        "order_auto_confirm_hours": _l("Automatic receipt confirmation"),
        "after_sales_window_hours": _l("After-sales window"),
        "requested_unshipped_hours": _l("Seller's time to respond (not shipped)"),
        "requested_shipped_hours": _l("Seller's time to respond (shipped)"),
        "buyer_reply_hours": _l("Buyer's time to reply"),
        "awaiting_return_hours": _l("Buyer's time to ship the return"),
        "return_in_transit_hours": _l("Seller's time to confirm the return"),
        "replacement_due_hours": _l("Seller's time to ship a replacement"),
        "replacement_in_transit_hours": _l("Buyer's time to confirm the replacement"),
        "complaint_response_hours": _l("Seller's time to answer a complaint"),
        "mediation_queue_hours": _l("Time in the mediation queue"),
        "mediation_action_hours": _l("Mediator's time to act"),
        "evidence_period_hours": _l("Evidence period"),
        "mediation_review_hours": _l("Review time"),
        "confirmation_hours": _l("Time to confirm a proposal"),
        "ruling_hours": _l("Time to rule"),
        "task_start_hours": _l("Execution task start"),
        "execution_retry_hours": _l("Retry interval of a failed step"),
        "seller_refund_hours": _l("Seller's time to pay a refund"),
        "execution_check_hours": _l("Execution check interval"),
        "recovery_retry_hours": _l("Advance recovery interval"),
        "max_task_attempts": _l("Attempts before a task fails"),
        "late_shipment_percent": _l("Late-shipment compensation rate"),
        "late_shipment_min_fen": _l("Late-shipment compensation minimum"),
        "late_shipment_max_fen": _l("Late-shipment compensation maximum"),
        "metrics_window_days": _l("Service metrics window"),
        "max_modifications": _l("Times a request may be modified"),
        "max_open_cases_per_order": _l("Open cases per order"),
        "max_cases_per_order": _l("Cases per order"),
        "max_open_complaints_per_listing": _l("Open complaints per listing and buyer"),
        "max_open_listing_complaints_per_buyer": _l("Open listing complaints per buyer"),
        "no_reason_return_hours": _l("7-day no-reason return period"),
        "overview_window_days": _l("Overview window"),
        "penalty_restrict_points": _l("Points that restrict a shop"),
        "penalty_restrict_days": _l("Restriction days per threshold"),
        "penalty_blacklist_points": _l("Points that close a shop"),
        "penalty_points_expire_days": _l("Points validity"),
        "credit_window_days": _l("Buyer credit window"),
        "credit_flag_dismissed": _l("Dismissed claims that flag a buyer"),
        "reasons": _l("Refund reasons (read-only)"),
    },
    "rule_help": {  # one line on what each rule does
        "default_ship_within_hours": _l("A seller ships a paid order within this time unless the listing promises otherwise."),
        "order_auto_confirm_hours": _l("Counted from shipping: the buyer's receipt is confirmed automatically when it ends."),
        "after_sales_window_hours": _l("How long after completion a buyer may still file an after-sales request."),
        "requested_unshipped_hours": _l("The seller does not respond to a request on an unshipped order in this time: the system agrees to the refund."),
        "requested_shipped_hours": _l("The seller does not respond to a request on a shipped order in this time: the system agrees to the refund."),
        "buyer_reply_hours": _l("After a counter-offer or a refusal, a buyer silent this long has the request closed."),
        "awaiting_return_hours": _l("A buyer who does not ship the return in this time has the request closed."),
        "return_in_transit_hours": _l("A seller who does not confirm the returned goods in this time: the system confirms and refunds."),
        "replacement_due_hours": _l("A seller who does not ship the replacement in this time: the buyer is refunded instead."),
        "replacement_in_transit_hours": _l("A buyer silent this long after the replacement shipped: the replacement counts as received."),
        "complaint_response_hours": _l("The seller's time to respond to a complaint with evidence before it goes to the platform."),
        "mediation_queue_hours": _l("A case nobody takes in this time is assigned to the least busy mediator."),
        "mediation_action_hours": _l("An assigned case without a step in this time is flagged overdue."),
        "evidence_period_hours": _l("How long the parties have to submit evidence (extendable once)."),
        "mediation_review_hours": _l("A case under review without a proposal in this time is flagged overdue."),
        "confirmation_hours": _l("The parties' time to confirm a proposal; silence counts as acceptance."),
        "ruling_hours": _l("After a party rejects the proposal, the mediator's time to make a final ruling."),
        "task_start_hours": _l("A new execution task is due this long after it is created (0: at once)."),
        "execution_retry_hours": _l("A failed execution step is retried by the system after this time."),
        "seller_refund_hours": _l("The seller's time to pay a refund; after it the platform advances the money."),
        "execution_check_hours": _l("A case in execution is looked at again at least this often."),
        "recovery_retry_hours": _l("An advance still owed is taken again from the shop after this time."),
        "max_task_attempts": _l("A failing execution step is retried this many times, then shows as failed."),
        "late_shipment_percent": _l("Share of the item price paid to the buyer when the seller ships late."),
        "late_shipment_min_fen": _l("The least late-shipment compensation paid (in fen)."),
        "late_shipment_max_fen": _l("The most late-shipment compensation paid (in fen)."),
        "metrics_window_days": _l("The rolling window the seller service figures and category averages cover."),
        "max_modifications": _l("How often a buyer may modify a refused or countered request."),
        "max_open_cases_per_order": _l("How many cases one order may have open at the same time."),
        "max_cases_per_order": _l("How many cases one order may have in all."),
        "max_open_complaints_per_listing": _l("Open complaints one buyer may have about one listing."),
        "max_open_listing_complaints_per_buyer": _l("Open complaints one buyer may have about listings, all shops together."),
        "no_reason_return_hours": _l("Counted from delivery (or shipping): the time a buyer may return without a reason."),
        "overview_window_days": _l("The days the mediator overview's medians, breaches and closed cases cover."),
        "penalty_restrict_points": _l("Every this many points in force restrict the shop (no new listings, no new orders)."),
        "penalty_restrict_days": _l("How many days each restriction threshold lasts."),
        "penalty_blacklist_points": _l("Points in force at which the shop is blacklisted (closed)."),
        "penalty_points_expire_days": _l("Penalty points count for this many days."),
        "credit_window_days": _l("The rolling window of a buyer's recent figures and of the flag threshold."),
        "credit_flag_dismissed": _l("Claims dismissed by a mediator within the window that flag the buyer as malicious (0: never)."),
        "reasons": _l("The reason codes each after-sales kind accepts."),
    },
    "action": {
        "pay": _l("Pay"), "ship": _l("Ship"), "deliver": _l("Mark delivered"),
        "confirm_receipt": _l("Confirm receipt"), "close": _l("Close order"),
    },
}


def label(group, key):
    return LABELS.get(group, {}).get(key, key)


# the execution steps' errors (a task's last_error, app/execution/services.py), as the case page and the
# failed-tasks page show them
NOT_ELIGIBLE = "the buyer is not eligible for a platform advance"
TASK_ERRORS = {
    "The shop cannot pay the compensation yet": _l("The shop cannot pay the compensation yet"),
    NOT_ELIGIBLE: _l("the buyer is not eligible for a platform advance"),
    "The listing to take down is not this shop's": _l("The listing to take down is not this shop's"),
}


def task_error(error):
    """A task's last_error in the reader's language (an unknown one as it is)."""
    return TASK_ERRORS.get(error, error) if error else ""


# What the system did on its own (a deadline passed, or a step it takes), as the case history tells it:
# one sentence per (phase, system trigger) of the workflow tables; a few read better per case kind.
SYSTEM_DONE = {
    ("negotiation", "agree"): _l("The seller did not respond in time; the system agreed to the refund automatically."),
    ("negotiation", "expire"): _l("The buyer did not act in time; the system closed the request."),
    ("negotiation", "confirm_received"): _l(
        "The seller did not confirm the returned goods in time; the system confirmed they arrived."),
    ("negotiation", "fail_replacement"): _l(
        "The seller did not ship the replacement in time; the system turned the exchange into a refund."),
    ("negotiation", "confirm_replacement"): _l(
        "The buyer did not confirm in time; the system confirmed the replacement arrived."),
    ("complaint", "hand_over"): _l(
        "The seller did not respond to the complaint in time; the system handed it to the platform."),
    ("mediation", "auto_assign"): _l("Nobody took the case in time; the system assigned it to a mediator."),
    ("mediation", "reassign"): _l("The mediator left; the case was handed to another mediator."),
    ("resolution", "reassign"): _l("The mediator left; the case was handed to another mediator."),
    ("mediation", "close_evidence"): _l("The evidence period ended; the case went to review."),
    ("mediation", "flag_overdue"): _l("The mediator did not act in time; the case was flagged overdue."),
    ("resolution", "accept_by_silence"): _l(
        "A party did not answer in time; the system took the silence as acceptance of the proposal."),
    ("resolution", "flag_overdue"): _l("The mediator did not rule in time; the case was flagged overdue."),
    ("execution", "check"): _l("The system checked how the execution is going."),
    ("execution", "complete"): _l("Everything was carried out; the case is closed."),
}
SYSTEM_DONE_BY_KIND = {
    ("negotiation", "agree", "return_refund"): _l(
        "The seller did not respond in time; the system agreed to the return automatically."),
    ("negotiation", "agree", "exchange"): _l(
        "The seller did not respond in time; the system agreed to the exchange automatically."),
}
# What the system will do when the running deadline passes: one sentence per (phase, on_timeout).
TIMEOUT_NEXT = {
    ("negotiation", "agree"): _l("If nobody acts by then: the system agrees to the refund automatically."),
    ("negotiation", "expire"): _l("If nobody acts by then: the system closes the request."),
    ("negotiation", "confirm_received"): _l(
        "If nobody acts by then: the system confirms the return arrived and carries out the agreement."),
    ("negotiation", "fail_replacement"): _l("If nothing is shipped by then: the system refunds instead."),
    ("negotiation", "confirm_replacement"): _l("If nobody acts by then: the system confirms the replacement arrived."),
    ("complaint", "hand_over"): _l("If nobody acts by then: the system hands the complaint to the platform."),
    ("mediation", "auto_assign"): _l("If nobody takes the case by then: the system assigns a mediator."),
    ("mediation", "close_evidence"): _l("When the time is up: the evidence period closes and the review starts."),
    ("mediation", "flag_overdue"): _l("If nothing happens by then: the case is flagged overdue."),
    ("resolution", "accept_by_silence"): _l("If you do not answer by then: your silence counts as acceptance."),
    ("resolution", "flag_overdue"): _l("If no ruling comes by then: the case is flagged overdue."),
    ("execution", "check"): _l("The system keeps checking until everything is carried out."),
}
TIMEOUT_NEXT_BY_KIND = {
    ("negotiation", "agree", "return_refund"): _l(
        "If nobody acts by then: the system agrees to the return automatically."),
    ("negotiation", "agree", "exchange"): _l("If nobody acts by then: the system agrees to the exchange automatically."),
}
# the same for an execution task's deadline (workflows/tasks.py), shown while a task waits for a party
TASK_TIMEOUT_NEXT = {
    "advance": _l("If the seller does not pay by then: the platform pays the buyer in advance and recovers it "
                  "from the shop."),
    "fail": _l("If nothing is shipped by then: the exchange fails and the platform steps in."),
    "confirm_replacement": _l("If nobody acts by then: the system confirms the replacement arrived."),
    "start": _l("The system carries this out now."), "keep": _l("The system tries again."),
    "retry": _l("The system tries again."),
}


def system_did(phase, trigger, kind=None):
    """The sentence for a step the system took; None when the tables have none (a test keeps them complete)."""
    return SYSTEM_DONE_BY_KIND.get((phase, trigger, kind)) or SYSTEM_DONE.get((phase, trigger))


def timeout_next(phase, trigger, kind=None):
    return TIMEOUT_NEXT_BY_KIND.get((phase, trigger, kind)) or TIMEOUT_NEXT.get((phase, trigger))
