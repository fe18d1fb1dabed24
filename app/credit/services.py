"""The malicious-refund flag (`User.is_malicious_refund`: no platform advances, app/execution `_buyer_eligible`).

It is set
- by a mediator's decision with the finding "buyer at fault / malicious" once the decision binds (the proposal
  accepted by both parties or by silence, or a final ruling) — recorded as the deciding mediator's act;
- by the system when `credit_flag_dismissed` of the buyer's claims were dismissed by binding decisions within
  `credit_window_days`. After an admin cleared the flag only dismissals bound after the clearing count, so the
  system does not re-flag a cleared buyer for what the admin already weighed;
and set or cleared by an admin, with a reason. Every change leaves an admin audit record (app.admin_audit)."""
from datetime import timedelta

from workflows.problems import Problem

from ..admin_audit import reason_problem, record
from ..auth.models import User
from ..cases.signals import decision_bound
from ..db_tx import lock, transaction
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..ids import MAX_ID
from ..timeutil import utcnow
from .queries import dismissed_since, last_cleared_at



def set_flag(buyer_id, *, actor, flagged, reason, now=None):
    """An admin flags (flagged=True) or clears the buyer's malicious-refund flag, saying why."""
    now = now or utcnow()
    reason, problem = reason_problem(reason)
    if problem:
        raise Invalid("A reason is required" if problem.code == "required" else "The reason is too long",
                      {"reason": problem})
    if not isinstance(flagged, bool):
        raise Invalid("flagged must be true or false", {"flagged": Problem("must be true or false", "not_bool")})
    if actor is None or actor.role != "admin":
        raise Forbidden("Only an admin sets or clears a buyer's flag")
    with transaction():
        buyer = lock(User, buyer_id) if isinstance(buyer_id, int) and 0 < buyer_id <= MAX_ID else None
        if buyer is None or buyer.role != "buyer":
            raise NotFound("Buyer not found")
        if buyer.is_malicious_refund == flagged:
            raise Conflict("The buyer is already flagged" if flagged else "The buyer is not flagged",
                           {"flagged": buyer.is_malicious_refund})
        _set(buyer, flagged, actor, reason, {"source": "admin"}, now)
    return buyer


def _set(buyer, flagged, actor, reason, detail, now):
    buyer.is_malicious_refund = flagged
    record(actor, "buyer.flag" if flagged else "buyer.unflag", "user", buyer.id, reason=reason,
           detail={**detail, "before": not flagged, "after": flagged}, now=now)


@decision_bound.connect
def _after_decision(case, *, now, rules):
    """A mediator's decision on one of the buyer's cases became binding (inside its transaction)."""
    buyer = lock(User, case.buyer_id)
    if buyer.is_malicious_refund:
        return
    detail = {"case_id": case.id, "case_number": case.number}
    if case.buyer_malicious:
        mediator = db.session.get(User, case.decided_by_id) if case.decided_by_id else None
        _set(buyer, True, mediator, f"{case.number}: the mediator found the buyer at fault / malicious",
             detail | {"source": "ruling"}, now)
        return
    limit = rules["credit_flag_dismissed"]
    if not limit or case.remedy_type != "dismiss":
        return
    since = now - timedelta(days=rules["credit_window_days"])
    dismissed = dismissed_since(buyer.id, since, after=last_cleared_at(buyer.id))
    if dismissed >= limit:
        _set(buyer, True, None, f"{dismissed} claims dismissed within {rules['credit_window_days']} days "
             f"(threshold {limit})", detail | {"source": "threshold", "dismissed": dismissed, "window_days": rules["credit_window_days"]}, now)
