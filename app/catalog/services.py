"""Catalog writes: a shop's return addresses (退货地址) and listings (publishing, 上架 / 下架)."""
from sqlalchemy import select, update

from workflows.problems import Problem

from ..db_tx import transaction
from ..errors import Invalid, NotFound
from ..extensions import db
from ..timeutil import utcnow
from .models import CATEGORIES, SERVICE_PROMISES, Product, ReturnAddress, Shop
from .queries import refuse_unless_selling

LIMITS = {"contact": 64, "phone": 32, "address": 255}


def save_return_address(*, actor, contact, phone, address, is_default=False, address_id=None, now=None):
    """Add (address_id None) or edit one of the actor's shop's return addresses; the first one, or one
    marked default, becomes the shop's default."""
    now = now or utcnow()
    values = {"contact": contact, "phone": phone, "address": address}
    errors = {}
    for name, value in values.items():
        value = (value or "").strip() if isinstance(value, str) or value is None else value
        if not isinstance(value, str) or not value:
            errors[name] = Problem("required", "required")
        elif len(value) > LIMITS[name]:
            errors[name] = Problem(f"at most {LIMITS[name]} characters", "too_long", max=LIMITS[name])
        values[name] = value
    if errors:
        raise Invalid("Invalid return address", errors)
    if actor is None or actor.role != "seller" or actor.shop_id is None:
        raise NotFound("Shop not found")
    with transaction():
        if address_id is None:
            row = ReturnAddress(shop_id=actor.shop_id, created_at=now)
            db.session.add(row)
        else:
            row = db.session.get(ReturnAddress, address_id) if isinstance(address_id, int) else None
            if row is None or row.shop_id != actor.shop_id:
                raise NotFound("Return address not found")
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
        first = db.session.execute(select(ReturnAddress.id).where(
            ReturnAddress.shop_id == actor.shop_id, ReturnAddress.is_default.is_(True))).first() is None
        if is_default or first:
            db.session.execute(update(ReturnAddress).where(ReturnAddress.shop_id == actor.shop_id)
                               .values(is_default=False))
            row.is_default = True
        db.session.flush()
    return row


MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
MAX_SHIP_HOURS = 30 * 24


def _listing_values(title, category, price_fen, ship_within_hours, service_promises):
    errors = {}
    title = title.strip() if isinstance(title, str) else title
    if not isinstance(title, str) or not title:
        errors["title"] = Problem("required", "required")
    elif len(title) > 200:
        errors["title"] = Problem("at most 200 characters", "too_long", max=200)
    if category not in CATEGORIES:
        errors["category"] = Problem(f"one of {', '.join(CATEGORIES)}", "not_a_choice")
    if not isinstance(price_fen, int) or isinstance(price_fen, bool) or not 1 <= price_fen <= MAX_PRICE_FEN:
        errors["price_fen"] = Problem(f"between 1 and {MAX_PRICE_FEN}", "range_fen", low=1, high=MAX_PRICE_FEN)
    if (not isinstance(ship_within_hours, int) or isinstance(ship_within_hours, bool)
            or not 1 <= ship_within_hours <= MAX_SHIP_HOURS):
        errors["ship_within_hours"] = Problem(f"between 1 and {MAX_SHIP_HOURS}", "range_hours", low=1,
                                              high=MAX_SHIP_HOURS)
    if not isinstance(service_promises, (list, tuple)) or any(p not in SERVICE_PROMISES for p in service_promises):
        errors["service_promises"] = Problem(f"any of {', '.join(SERVICE_PROMISES)}", "not_a_choice")
    if errors:
        raise Invalid("Invalid listing", errors)
    return title


def publish_listing(*, actor, title, category, price_fen, ship_within_hours=48, service_promises=(), now=None):
    """A new listing of the actor's shop, on sale at once — refused while the shop is restricted or
    blacklisted (workflows/penalties.py)."""
    now = now or utcnow()
    if actor is None or actor.role != "seller" or actor.shop_id is None:
        raise NotFound("Shop not found")
    title = _listing_values(title, category, price_fen, ship_within_hours, service_promises)
    with transaction():
        refuse_unless_selling(db.session.get(Shop, actor.shop_id), now)
        listing = Product(shop_id=actor.shop_id, title=title, category=category, price_fen=price_fen,
                          ship_within_hours=ship_within_hours, service_promises=list(dict.fromkeys(service_promises)),
                          status="on_sale", created_at=now)
        db.session.add(listing)
        db.session.flush()
    return listing


def _own_listing(actor, listing_id):
    listing = db.session.get(Product, listing_id) if isinstance(listing_id, int) else None
    if listing is None or actor is None or actor.role != "seller" or listing.shop_id != actor.shop_id:
        raise NotFound("Listing not found")
    return listing


def set_listing_on_sale(*, actor, listing_id, on_sale, now=None):
    """The seller takes a listing down (下架: always possible) or puts it back on sale (上架: not while the
    shop is restricted or blacklisted, and never a listing the platform took down as a penalty)."""
    now = now or utcnow()
    with transaction():
        listing = _own_listing(actor, listing_id)
        if on_sale and listing.status != "on_sale":
            refuse_unless_selling(db.session.get(Shop, listing.shop_id), now)
            penalties = db.metadata.tables["penalties"]  # the execution area's table: catalog does not import it
            if db.session.execute(select(penalties.c.id).where(
                    penalties.c.listing_id == listing.id, penalties.c.kind == "takedown").limit(1)).first():
                raise Invalid("The platform took this listing down as a penalty",
                              {"listing_id": Problem("taken down as a penalty", "listing_penalised")})
        listing.status = "on_sale" if on_sale else "taken_down"
    return listing
