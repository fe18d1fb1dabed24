"""Catalog reads, and the shop's standing (workflows/penalties.py) that gates selling."""
from sqlalchemy import func, select

from workflows.penalties import standing
from workflows.problems import Problem

from ..errors import NotFound, ShopNotSelling
from ..extensions import db
from ..timeutil import isoformat
from .models import Product, ReturnAddress, Shop


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


def shop_standing(shop, now):
    """'blacklisted', 'restricted' (restricted_until still ahead of now) or 'good'."""
    return standing(shop.restricted_until, shop.is_blacklisted, now)


def refuse_unless_selling(shop, now):
    """A restricted or blacklisted shop may not publish a listing or take a new order (409)."""
    state = shop_standing(shop, now)
    if state == "blacklisted":
        raise ShopNotSelling("This shop is closed (blacklisted)",
                             {"shop": Problem("closed: the shop is blacklisted", "shop_blacklisted")})
    if state == "restricted":
        until = shop.restricted_until
        raise ShopNotSelling(f"This shop is restricted until {isoformat(until)}",
                             {"shop": Problem(f"restricted until {isoformat(until)}", "shop_restricted", until=until)})


def get_shop(shop_id):
    return db.session.get(Shop, shop_id) if isinstance(shop_id, int) else None


def listings_of(shop_id, on_sale_only=False, limit=500):
    """The shop's listings, newest first (only those on sale for buyers)."""
    if shop_id is None:
        return []
    query = select(Product).where(Product.shop_id == shop_id)
    if on_sale_only:
        query = query.where(Product.status == "on_sale")
    return db.session.execute(query.order_by(Product.id.desc()).limit(limit)).scalars().all()


def shops_page(page, per_page=50):
    """([shop], total) of all shops by name."""
    total = db.session.execute(select(func.count()).select_from(Shop)).scalar_one()
    shops = db.session.execute(select(Shop).order_by(Shop.name, Shop.id).offset((page - 1) * per_page)
                               .limit(per_page)).scalars().all()
    return shops, total
