"""The one place that decides who may see or do what."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import false, true

from ..errors import NotFound

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
    return order is not None and order_role(user, order) is not None


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
