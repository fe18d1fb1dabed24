"""Admin writes on a shop's standing: lifting a restriction early, removing a blacklist — with a reason,
audit-logged (app/admin_audit.py)."""
from workflows.problems import Problem

from .. import admin_audit
from ..catalog.models import Shop
from ..db_tx import lock, transaction
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..timeutil import isoformat, utcnow



def _checked(actor, shop_id, reason):
    if actor is None or actor.role != "admin":
        raise Forbidden("Only an admin can change a shop's standing")
    reason, problem = admin_audit.reason_problem(reason)
    if problem:
        raise Invalid("A reason is required" if problem.code == "required" else "The reason is too long",
                      {"reason": problem})
    shop = lock(Shop, shop_id) if isinstance(shop_id, int) else None
    if shop is None:
        raise NotFound("Shop not found")
    return shop, reason


def lift_restriction(*, actor, shop_id, reason, now=None):
    """End the shop's restriction now (it may sell and publish again)."""
    now = now or utcnow()
    with transaction():
        shop, reason = _checked(actor, shop_id, reason)
        if shop.restricted_until is None or shop.restricted_until <= now:
            raise Conflict("The shop is not restricted", {"shop": Problem("not restricted", "shop_not_restricted")})
        before = shop.restricted_until
        shop.restricted_until = now
        admin_audit.record(actor, "shop.lift_restriction", "shop", shop.id, reason=reason, now=now,
                           detail={"restricted_until": {"before": isoformat(before), "after": isoformat(now)}})
    return shop


def remove_blacklist(*, actor, shop_id, reason, now=None):
    """Reopen a blacklisted shop. Its listings stay taken down: the seller puts back the ones that may sell."""
    now = now or utcnow()
    with transaction():
        shop, reason = _checked(actor, shop_id, reason)
        if not shop.is_blacklisted:
            raise Conflict("The shop is not blacklisted",
                           {"shop": Problem("not blacklisted", "shop_not_blacklisted")})
        shop.is_blacklisted = False
        admin_audit.record(actor, "shop.remove_blacklist", "shop", shop.id, reason=reason, now=now,
                           detail={"is_blacklisted": {"before": True, "after": False}})
    return shop
