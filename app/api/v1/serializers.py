"""Model → JSON, shaped as API.md says."""
from ...timeutil import isoformat


def shipment_json(s):
    return {"id": s.id, "direction": s.direction, "carrier": s.carrier, "tracking_no": s.tracking_no,
            "status": s.status, "shipped_at": isoformat(s.shipped_at), "signed_at": isoformat(s.signed_at)}


def order_json(order, money, open_case_id=None):
    return {
        "id": order.id, "number": order.number, "status": order.status,
        "buyer_id": order.buyer_id, "shop_id": order.shop_id,
        "items": [{"product_id": i.product_id, "title": i.title, "category": i.category,
                   "unit_price_fen": i.unit_price_fen, "quantity": i.quantity,
                   "ship_within_hours": i.ship_within_hours, "service_promises": i.service_promises}
                  for i in order.items],
        "total_fen": order.total_fen, **money,
        "shipments": [shipment_json(s) for s in order.shipments],
        "open_case_id": open_case_id, "is_frozen": order.is_frozen,
        "created_at": isoformat(order.created_at), "paid_at": isoformat(order.paid_at),
        "ship_by": isoformat(order.ship_by), "shipped_at": isoformat(order.shipped_at),
        "delivered_at": isoformat(order.delivered_at), "completed_at": isoformat(order.completed_at),
        "closed_at": isoformat(order.closed_at), "auto_confirm_at": isoformat(order.auto_confirm_at),
    }
