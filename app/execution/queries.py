"""Reads of the execution area used elsewhere: the penalty points a shop has in force."""
from datetime import timedelta

from sqlalchemy import func, select

from ..extensions import db
from .models import Penalty


def points_in_force(shop_id, now, rules):
    """The shop's penalty points of the last `penalty_points_expire_days` (older ones have expired)."""
    since = now - timedelta(days=rules["penalty_points_expire_days"])
    return db.session.execute(select(func.coalesce(func.sum(Penalty.points), 0)).where(
        Penalty.shop_id == shop_id, Penalty.kind == "points", Penalty.created_at > since)).scalar_one()
