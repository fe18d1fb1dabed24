from flask import g

from ...catalog.services import publish_listing
from ...errors import Forbidden
from ...timeutil import isoformat
from . import bp, json_body, token_required


def listing_json(listing):
    return {"id": listing.id, "shop_id": listing.shop_id, "title": listing.title, "category": listing.category,
            "price_fen": listing.price_fen, "ship_within_hours": listing.ship_within_hours,
            "service_promises": list(listing.service_promises or []), "status": listing.status,
            "created_at": isoformat(listing.created_at)}


@bp.post("/listings")
@token_required
def create_listing():
    """A seller publishes a listing of their shop, on sale at once. 409 shop_not_selling while the shop is
    restricted or blacklisted."""
    data = json_body("title", "category", "price_fen", "ship_within_hours", "service_promises")
    if g.api_user.role != "seller":
        raise Forbidden("Only sellers publish listings")
    listing = publish_listing(actor=g.api_user, title=data.get("title"), category=data.get("category"),
                              price_fen=data.get("price_fen"), ship_within_hours=data.get("ship_within_hours", 48),
                              service_promises=data.get("service_promises", []))
    return listing_json(listing), 201
