from flask import g, request

from ...catalog.queries import get_listing
from ...cases.queries import open_cases_for
from ...errors import Forbidden, Invalid
from ...ids import MAX_ID
from ...orders.models import ORDER_STATUSES
from ...orders.queries import get_order, money_for, orders_for
from ...orders.services import create_order
from . import bp, json_body, page_args, page_body, token_required
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


MAX_ITEMS, MAX_QUANTITY, MAX_ADDRESS = 20, 99, 255


def _whole(value, low, high):
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


@bp.post("/orders")
@token_required
def place_order():
    """A buyer orders listings of one shop (status created: pay next). 409 shop_not_selling while the shop
    is restricted or blacklisted."""
    data = json_body("items", "address")
    if g.api_user.role != "buyer":
        raise Forbidden("Only buyers place orders")
    items, address, errors = data.get("items"), data.get("address"), {}
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS or not all(
            isinstance(i, dict) and set(i) == {"listing_id", "quantity"} and _whole(i["listing_id"], 1, MAX_ID)
            and _whole(i["quantity"], 1, MAX_QUANTITY) for i in items):
        errors["items"] = (f"1 to {MAX_ITEMS} of {{listing_id, quantity 1–{MAX_QUANTITY}}}")
    elif len({i["listing_id"] for i in items}) != len(items):
        errors["items"] = "each listing once"
    if not isinstance(address, str) or not address.strip() or len(address) > MAX_ADDRESS:
        errors["address"] = f"required, at most {MAX_ADDRESS} characters"
    if errors:
        raise Invalid("Invalid order", errors)
    order = create_order(buyer=g.api_user, items=[(get_listing(i["listing_id"]), i["quantity"]) for i in items],
                         address=address.strip())
    return order_json(order, money_for([order.id])[order.id], None), 201
