"""The one place that decides who may see or do what."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import false, true

from ..errors import Forbidden, NotFound

SYSTEM = None  # the `system` actor (deadlines, execution): services receive actor=None


def role_of(actor):
    return "system" if actor is None else actor.role


def role_required(*roles):
    """Page decorator: logged in, and one of `roles`; anyone else gets 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def order_role(user, order):
    """The part `user` plays in `order`: buyer, seller, admin — or None."""
    if user is None:
        return "system"
    if user.role == "buyer" and order.buyer_id == user.id:
        return "buyer"
    if user.role == "seller" and order.shop_id == user.shop_id:
        return "seller"
    if user.role == "admin":
        return "admin"
    return None


def can_view_order(user, order):
    if order is None:
        return False
    if order_role(user, order) is not None:
        return True
    # a mediator sees the orders of the cases they may see
    return user.role == "mediator" and any(can_view_case(user, case) for case in order_cases(order))


def order_cases(order):
    from ..cases.models import Case
    from ..extensions import db
    from sqlalchemy import select
    return db.session.execute(select(Case).where(Case.order_id == order.id)).scalars().all()


def case_role(user, case):
    """The part `user` plays in `case` (buyer / seller / mediator / admin / system) or None."""
    if user is None:
        return "system"
    if user.role == "buyer" and case.buyer_id == user.id:
        return "buyer"
    if user.role == "seller" and case.shop_id == user.shop_id:
        return "seller"
    if user.role == "mediator" and (case.mediator_id == user.id or (
            case.mediator_id is None and case.phase == "mediation" and in_team_for(user, case.category))):
        return "mediator"
    if user.role == "admin":
        return "admin"
    return None


def can_view_case(user, case):
    return case is not None and case_role(user, case) is not None


def ensure_can_view_case(user, case):
    if not can_view_case(user, case):
        raise NotFound("Case not found")
    return case


def contributor_role(user, case):
    """buyer / seller / mediator when `user` may see and add evidence and messages on `case`, else None."""
    role = case_role(user, case) if user is not None else None
    return role if role in ("buyer", "seller", "mediator") else None


def can_see_ledger(user):
    """The platform's internal accounts (escrow:…, seller:…:payable, receivables, recoveries) are for mediators
    and admins; buyers and sellers see their own money in words."""
    return user is not None and getattr(user, "role", None) in ("mediator", "admin")


def ensure_contributor(user, case):
    role = contributor_role(user, case)
    if role is None:
        if can_view_case(user, case):  # an admin reads, but does not take part
            raise Forbidden("Only the parties and the mediator take part in a case")
        raise NotFound("Case not found")
    return role


def can_view_shop_standing(user, shop):
    """A shop's standing and penalties: its own seller, mediators and admins; anyone else gets 404."""
    return shop is not None and user is not None and (
        user.role in ("mediator", "admin") or (user.role == "seller" and user.shop_id == shop.id))


def visible_cases_clause(user, Case):
    """WHERE clause for the cases `user` may see: own, own shop's, the queue + assigned, or all."""
    from sqlalchemy import and_, or_
    if user.role == "buyer":
        return Case.buyer_id == user.id
    if user.role == "seller":
        return Case.shop_id == user.shop_id
    if user.role == "mediator":
        return or_(Case.mediator_id == user.id, and_(Case.mediator_id.is_(None), Case.phase == "mediation",
                                                     team_categories_clause(user, Case)))
    if user.role == "admin":
        return true()
    return false()


def team_mediators(category):
    """The ids of the active mediators in the teams covering `category`; an empty set when no team with an
    active member covers it (then every mediator handles its cases). Mediator teams: app/admin, issue 13."""
    from sqlalchemy import select

    from ..extensions import db
    from .models import MediatorTeamCategory, MediatorTeamMember, User
    if category is None:
        return set()
    teams = select(MediatorTeamCategory.team_id).where(MediatorTeamCategory.category == category)
    return set(db.session.execute(select(MediatorTeamMember.user_id)
                                  .join(User, User.id == MediatorTeamMember.user_id)
                                  .where(MediatorTeamMember.team_id.in_(teams), User.is_active_flag.is_(True))
                                  ).scalars())


def in_team_for(user, category):
    """Whether the queued cases of `category` are `user`'s (a mediator): no team covers it, or theirs does."""
    members = team_mediators(category)
    return not members or user.id in members


def team_categories_clause(user, Case):
    """The SQL twin of in_team_for: the case's category is covered by no team with an active member, or by
    one of `user`'s."""
    from sqlalchemy import or_, select

    from .models import MediatorTeamCategory, MediatorTeamMember, User
    covered = select(MediatorTeamCategory.category).join(
        MediatorTeamMember, MediatorTeamMember.team_id == MediatorTeamCategory.team_id).join(
        User, User.id == MediatorTeamMember.user_id).where(User.is_active_flag.is_(True))
    mine = (select(MediatorTeamCategory.category)
            .join(MediatorTeamMember, MediatorTeamMember.team_id == MediatorTeamCategory.team_id)
            .where(MediatorTeamMember.user_id == user.id))
    return or_(Case.category.is_(None), Case.category.not_in(covered), Case.category.in_(mine))


def ensure_can_view_order(user, order):
    if not can_view_order(user, order):
        raise NotFound("Order not found")
    return order


def visible_orders_clause(user, Order):
    """A WHERE clause selecting the orders `user` may see (used by list queries)."""
    if user.role == "buyer":
        return Order.buyer_id == user.id
    if user.role == "seller":
        return Order.shop_id == user.shop_id
    if user.role == "admin":
        return true()
    return false()


def can_view_shop_service(user, shop):
    """A shop's service metrics and penalties: its own sellers, and mediators and admins."""
    if shop is None or user is None:
        return False
    return user.role in ("mediator", "admin") or (user.role == "seller" and user.shop_id == shop.id)


def ensure_can_view_shop_service(user, shop):
    if not can_view_shop_service(user, shop):
        raise NotFound("Shop not found")
    return shop


def can_rate_case(user, case):
    """The buyer rates a case's handling once it is closed (whether it was rated already is the service's)."""
    return user is not None and user.role == "buyer" and case.buyer_id == user.id and case.phase == "closed"
