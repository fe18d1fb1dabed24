"""A shop's standing as people see it: restricted until when / blacklisted, because of which case, the
points in force, and its penalties. Used by templates/penalties/_standing.html (a partial taking a shop)."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from ..cases.models import Case
from ..admin_audit import events_for
from ..catalog.models import Shop
from ..catalog.queries import shop_standing
from ..errors import NotFound
from ..execution.models import Penalty
from ..execution.queries import points_in_force
from ..extensions import db


@dataclass
class Standing:
    shop: Shop
    state: str                  # good / restricted / blacklisted
    until: datetime | None      # restricted: when the restriction ends
    cause: Penalty | None       # the penalty (and so the case) that put the shop there
    cause_case: Case | None
    points_in_force: int
    points_total: int


def standing_of(shop, now, rules):
    state = shop_standing(shop, now)
    cause = None
    if state != "good":
        where = [Penalty.shop_id == shop.id, Penalty.kind == ("blacklist" if state == "blacklisted" else "restrict")]
        if state == "restricted":
            where.append(Penalty.until == shop.restricted_until)
        cause = db.session.execute(select(Penalty).where(*where).order_by(Penalty.id.desc()).limit(1)).scalar()
    return Standing(shop=shop, state=state, until=shop.restricted_until if state == "restricted" else None,
                    cause=cause, cause_case=db.session.get(Case, cause.case_id) if cause else None,
                    points_in_force=points_in_force(shop.id, now, rules), points_total=shop.points)


def penalties_of(shop_id, limit=100):
    """[(penalty, its case's number)] of the shop, newest first."""
    return db.session.execute(select(Penalty, Case.number).join(Case, Case.id == Penalty.case_id)
                              .where(Penalty.shop_id == shop_id)
                              .order_by(Penalty.created_at.desc(), Penalty.id.desc()).limit(limit)).all()


def penalised_shops(page, now, rules, per_page=50):
    """([(shop, points in force)], total) of the shops under a penalty now: blacklisted, restricted, or with
    penalty points in force (a shop whose points all expired, in good standing, is not listed) — the
    blacklisted first, then the most points in force."""
    since = now - timedelta(days=rules["penalty_points_expire_days"])
    points = (select(func.coalesce(func.sum(Penalty.points), 0))
              .where(Penalty.shop_id == Shop.id, Penalty.kind == "points", Penalty.created_at > since)
              .correlate(Shop).scalar_subquery())
    query = select(Shop, points.label("points")).where(or_(
        Shop.is_blacklisted.is_(True), Shop.restricted_until > now,
        select(Penalty.id).where(Penalty.shop_id == Shop.id, Penalty.kind == "points",
                                 Penalty.created_at > since, Penalty.points > 0).exists()))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(Shop.is_blacklisted.desc(), points.desc(), Shop.id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return [(shop, int(n)) for shop, n in rows], total


def get_shop(shop_id):
    shop = db.session.get(Shop, shop_id) if isinstance(shop_id, int) else None
    if shop is None:
        raise NotFound("Shop not found")
    return shop


STANDING_ACTIONS = ("shop.restrict", "shop.blacklist", "shop.lift_restriction", "shop.remove_blacklist")


def standing_events(shop_id):
    """The audit log's decisions on the shop's standing (thresholds crossed, lifted by an admin), newest first."""
    return [e for e in events_for("shop", shop_id, limit=200) if e.action in STANDING_ACTIONS]
