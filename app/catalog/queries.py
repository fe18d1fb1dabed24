"""Catalog reads."""
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from .models import Product, ReturnAddress


def return_addresses(shop_id):
    """The shop's return addresses, the default first."""
    if shop_id is None:
        return []
    return db.session.execute(select(ReturnAddress).where(ReturnAddress.shop_id == shop_id)
                              .order_by(ReturnAddress.is_default.desc(), ReturnAddress.id)).scalars().all()


def get_return_address(user, address_id):
    row = db.session.get(ReturnAddress, address_id) if isinstance(address_id, int) else None
    if row is None or user.role != "seller" or row.shop_id != user.shop_id:
        raise NotFound("Return address not found")
    return row


def get_listing(listing_id):
    """A listing anyone logged in may see (listings are public)."""
    listing = db.session.get(Product, listing_id) if isinstance(listing_id, int) else None
    if listing is None:
        raise NotFound("Listing not found")
    return listing
