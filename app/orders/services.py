"""Order writes. Every action runs the order state machine (workflows/order.py) and its
money movement in one transaction; ledger keys make a repeated action a no-op."""
from datetime import timedelta

from sqlalchemy import select

from ..auth.policy import order_role
from ..catalog.models import Shop
from ..catalog.queries import refuse_unless_selling, shop_standing
from ..db_tx import lock, transaction
from ..errors import ActionNotAvailable, Invalid, NotFound
from ..extensions import db
from ..payments.services import balance, buyer_funding_code, escrow_code, lock_accounts, seller_code, transfer
from ..rules import get_rules
from ..shipping.models import CARRIERS, Shipment
from ..timeutil import utcnow
from workflows import ActionNotAllowed
from workflows.order import PHASE
from workflows.problems import Problem
from .models import Order, OrderItem


def create_order(*, buyer, items, address="", now=None):
    """items: [(product, quantity)] from one shop. The listing is snapshotted."""
    now = now or utcnow()
    if not items or any(qty < 1 for _, qty in items):
        raise Invalid("An order needs at least one item", {"items": "required"})
    shops = {product.shop_id for product, _ in items}
    if len(shops) != 1:
        raise Invalid("All items of an order come from one shop", {"items": "one shop"})
    with transaction():
        # restricted / blacklisted: no order — checked on the locked shop row, so an order and a penalty
        # being applied to the shop (which locks it too) queue one after the other
        refuse_unless_selling(lock(Shop, next(iter(shops))), now)
        if any(product.status != "on_sale" for product, _ in items):
            raise Invalid("A listing is not on sale", {"items": Problem("not on sale", "listing_not_on_sale")})
        order = Order(buyer_id=buyer.id, shop_id=shops.pop(), status="created", created_at=now,
                      shipping_address=address, number=f"pending-{now.timestamp()}-{buyer.id}",
                      total_fen=sum(p.price_fen * q for p, q in items))
        order.items = [OrderItem(product_id=p.id, title=p.title, category=p.category, unit_price_fen=p.price_fen,
                                 quantity=q, ship_within_hours=p.ship_within_hours,
                                 service_promises=list(p.service_promises or [])) for p, q in items]
        db.session.add(order)
        db.session.flush()
        order.number = f"TB{now:%Y%m%d}{order.id:08d}"
    return order


def _pay(order, actor, data, now, rules):
    # the shop row was locked before the order (perform_order_action): a shop restricted or blacklisted
    # since the order was placed takes no money into escrow
    refuse_unless_selling(db.session.get(Shop, order.shop_id), now)
    transfer(buyer_funding_code(order.buyer_id), escrow_code(order.id), order.total_fen,
             f"order:{order.id}:pay", kind="pay", order_id=order.id, memo="buyer pays into escrow", at=now)
    order.paid_at = now
    order.ship_by = now + timedelta(hours=max(i.ship_within_hours for i in order.items))


def _ship(order, actor, data, now, rules):
    carrier, tracking = (data.get("carrier") or "").strip(), (data.get("tracking_no") or "").strip()
    errors = {k: "required" for k, v in (("carrier", carrier), ("tracking_no", tracking)) if not v}
    if carrier and carrier not in CARRIERS:
        errors["carrier"] = f"one of {', '.join(CARRIERS)}"
    if errors:
        raise Invalid("A known carrier and a tracking number are required", errors)
    db.session.add(Shipment(order=order, direction="forward", carrier=carrier[:32], tracking_no=tracking[:64],
                            shipped_at=now))
    order.shipped_at = now
    order.auto_confirm_at = now + timedelta(hours=rules["order_auto_confirm_hours"])


def _deliver(order, actor, data, now, rules):
    for shipment in order.shipments:
        if shipment.direction == "forward" and shipment.status == "in_transit":
            shipment.status, shipment.signed_at = "signed", now
    order.delivered_at = now


def _complete(order, actor, data, now, rules):
    lock_accounts([escrow_code(order.id), seller_code(order.shop_id, "balance")])  # then read what escrow holds
    held = balance(escrow_code(order.id))
    if held:
        transfer(escrow_code(order.id), seller_code(order.shop_id, "balance"), held,
                 f"order:{order.id}:release", kind="release", order_id=order.id,
                 memo="escrow released to seller on receipt", at=now)
    order.completed_at, order.auto_confirm_at = now, None


def _close(order, actor, data, now, rules):
    lock_accounts([escrow_code(order.id), buyer_funding_code(order.buyer_id)])  # then read what escrow holds
    held = balance(escrow_code(order.id))
    if held:
        transfer(escrow_code(order.id), buyer_funding_code(order.buyer_id), held,
                 f"order:{order.id}:close-refund", kind="refund", order_id=order.id,
                 memo="order closed before shipping: full refund", at=now)
    order.closed_at, order.auto_confirm_at = now, None


EFFECTS = {"pay": _pay, "ship": _ship, "deliver": _deliver, "confirm_receipt": _complete,
           "auto_confirm": _complete, "close": _close}


def perform_order_action(order_id, trigger, *, actor, data=None, now=None):
    """Fire `trigger` on the order as `actor` (a User, or None for the system)."""
    now, data, rules = now or utcnow(), data or {}, get_rules()
    with transaction():
        if trigger == "pay":  # locks in order: the shop, then the order (as a penalty: case, task, shop)
            shop_id = db.session.execute(select(Order.shop_id).where(Order.id == order_id)).scalar()
            if shop_id is not None:
                lock(Shop, shop_id)
        order = lock(Order, order_id)
        role = order_role(actor, order) if order is not None else None
        if role is None:
            raise NotFound("Order not found")
        try:
            PHASE.fire(order, trigger, role, rules, data)
        except ActionNotAllowed as exc:
            raise ActionNotAvailable(str(exc), {"available_actions": exc.allowed}) from None
        EFFECTS[trigger](order, actor, data, now, rules)
    return order


def apply_order_timeout(order, now, rules):
    """The sweeper's receipt auto-confirmation, inside its batch transaction."""
    PHASE.fire(order, "auto_confirm", "system", rules)
    _complete(order, None, {}, now, rules)


def order_actions(order, user):
    """[(trigger, fields)] the user may fire on the order now (for pages and the API)."""
    role = order_role(user, order)
    actions = PHASE.available_actions(order, role, get_rules()) if role else []
    if shop_standing(order.shop, utcnow()) != "good":  # no Pay button that cannot work (_pay refuses it)
        actions = [(name, fields) for name, fields in actions if name != "pay"]
    return actions


