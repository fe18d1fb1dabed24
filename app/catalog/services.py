"""Catalog writes: a shop's return addresses (退货地址)."""
from sqlalchemy import select, update

from workflows.problems import Problem

from ..db_tx import transaction
from ..errors import Invalid, NotFound
from ..extensions import db
from ..timeutil import utcnow
from .models import ReturnAddress

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
