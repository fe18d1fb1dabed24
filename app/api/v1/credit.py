from flask import g

from ...credit.queries import FIGURES, credit_for
from ...credit.services import set_flag
from ...errors import Forbidden
from ...rules import get_rules
from ...timeutil import isoformat, utcnow
from . import bp, json_body, token_required

READERS = ("mediator", "admin")


def credit_json(credit):
    return {"buyer_id": credit.buyer.id, "flagged": credit.flagged, "window_days": credit.window_days,
            "all_time": {name: credit.all_time[name] for name in FIGURES},
            "window": {name: credit.recent[name] for name in FIGURES},
            "flag_history": [{"action": e.action.removeprefix("buyer."), "source": (e.detail or {}).get("source"),
                              "actor_id": e.actor_id, "reason": e.reason, "case_id": (e.detail or {}).get("case_id"),
                              "at": isoformat(e.created_at)} for e in credit.history]}


@bp.get("/buyers/<int:buyer_id>/credit")
@token_required
def buyer_credit(buyer_id):
    """A buyer's credit (mediators who see a case of the buyer, admins): figures and the malicious-refund flag."""
    if g.api_user.role not in READERS:
        raise Forbidden("Only mediators and admins read a buyer's credit")
    return credit_json(credit_for(g.api_user, buyer_id, now=utcnow(), rules=get_rules()))


@bp.post("/buyers/<int:buyer_id>/flag")
@token_required
def flag_buyer(buyer_id):
    """An admin sets or clears the buyer's malicious-refund flag, with a reason (kept in the admin audit log)."""
    data = json_body("flagged", "reason")  # a malformed body is a 400 for anyone, as on every JSON endpoint
    if g.api_user.role != "admin":
        raise Forbidden("Only an admin sets or clears a buyer's flag")
    set_flag(buyer_id, actor=g.api_user, flagged=data.get("flagged"), reason=data.get("reason"))
    return credit_json(credit_for(g.api_user, buyer_id, now=utcnow(), rules=get_rules()))
