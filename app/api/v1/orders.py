from flask import g, request

from ...cases.queries import open_cases_for
from ...errors import Invalid
from ...orders.models import ORDER_STATUSES
from ...orders.queries import get_order, money_for, orders_for
from . import bp, page_args, page_body, token_required
from .serializers import order_json


@bp.get("/orders")
@token_required
def list_orders():
    page, per_page = page_args()
    status = request.args.get("status")
    if status is not None and status not in ORDER_STATUSES:
        raise Invalid("Unknown order status", {"status": f"one of {', '.join(ORDER_STATUSES)}"})
    orders, total = orders_for(g.api_user, status=status, page=page, per_page=per_page)
    ids = [o.id for o in orders]
    money, open_cases = money_for(ids), open_cases_for(g.api_user, ids)
    return page_body([order_json(o, money[o.id], open_cases.get(o.id)) for o in orders], page, per_page, total)


@bp.get("/orders/<int:order_id>")
@token_required
def show_order(order_id):
    order = get_order(g.api_user, order_id)
    return order_json(order, money_for([order.id])[order.id], open_cases_for(g.api_user, [order.id]).get(order.id))
