"""Reads of the seller service metrics: a window's figures are sums of the daily rollup
(shop_daily_stats) over the window's days, for one shop, its category, or every shop at once.

Category averages are pooled: the category's totals over the window divided by the category's paid
orders (every order weighs the same), not the mean of its shops' rates (where a shop with 3 orders would
weigh as much as one with 30,000). The median response of a category is read from its pooled histogram."""
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import func, select

from ..auth.policy import ensure_can_view_shop_service
from ..cases.models import Case
from ..catalog.models import Shop
from ..execution.models import Penalty
from ..extensions import db
from .models import COUNTS, RESPONSE_BUCKETS, ShopDailyStats


def window_days(today, days):
    """The window's first and last day: the `days` days ending today (the Beijing calendar day,
    app.timeutil.local_date), both included."""
    return today - timedelta(days=days - 1), today


@dataclass
class Figures:
    paid_orders: int
    complaints: int
    refunds: int
    dispute_refunds: int
    timeout_refunds: int
    agreed_refunds: int
    breaches: int
    responses: int
    ratings: int
    dispute_refund_rate: float | None
    complaint_rate: float | None
    refund_rate: float | None
    timeout_refund_rate: float | None
    agreed_refund_rate: float | None
    breach_rate: float | None
    rating_average: float | None
    median_response_under_minutes: int | None   # the median's bucket bound; None: no response, or slower
    median_response_over_minutes: int | None    # the bucket's lower bound (0 for the first)

    def as_dict(self):
        return asdict(self)


def figures(totals):
    """Figures from a row of summed COUNTS (a mapping; None sums are zero)."""
    t = {name: int(totals.get(name) or 0) for name in COUNTS}
    paid = t["paid_orders"]

    def rate(n):
        return n / paid if paid else None

    under = over = None
    if t["responses"]:
        k, seen = (t["responses"] + 1) // 2, 0
        for i, bound in enumerate(RESPONSE_BUCKETS):
            seen += t[f"r{i}"]
            if seen >= k:
                under, over = bound, RESPONSE_BUCKETS[i - 1] if i else 0
                break
    return Figures(
        paid_orders=paid, complaints=t["complaints"], refunds=t["refunds"], dispute_refunds=t["dispute_refunds"],
        timeout_refunds=t["timeout_refunds"], agreed_refunds=t["agreed_refunds"], breaches=t["breaches"],
        responses=t["responses"], ratings=t["ratings"],
        dispute_refund_rate=rate(t["dispute_refunds"]), complaint_rate=rate(t["complaints"]),
        refund_rate=rate(t["refunds"]), timeout_refund_rate=rate(t["timeout_refunds"]),
        agreed_refund_rate=rate(t["agreed_refunds"]), breach_rate=rate(t["breaches"]),
        rating_average=t["rating_sum"] / t["ratings"] if t["ratings"] else None,
        median_response_under_minutes=under, median_response_over_minutes=over)


def _sums():
    return [func.sum(getattr(ShopDailyStats, name)).label(name) for name in COUNTS]


def shop_totals(shop_id, first, last):
    row = db.session.execute(select(*_sums()).where(
        ShopDailyStats.shop_id == shop_id, ShopDailyStats.day.between(first, last))).mappings().one()
    return figures(row)


def category_totals(category, first, last):
    row = db.session.execute(select(*_sums()).join(Shop, Shop.id == ShopDailyStats.shop_id).where(
        Shop.category == category, ShopDailyStats.day.between(first, last))).mappings().one()
    return figures(row)


def all_shops(first, last):
    """Every shop's figures and every category's average over the days [first, last]:
    ({shop_id: Figures}, {category: Figures}) — one statement: the window is summed per shop once (a CTE),
    and the categories are summed from those per-shop rows, not from a second scan of the rollup."""
    per_shop = (select(ShopDailyStats.shop_id, *_sums()).where(ShopDailyStats.day.between(first, last))
                .group_by(ShopDailyStats.shop_id).cte("per_shop"))
    shops = select(per_shop.c.shop_id, db.literal(None, db.String).label("category"),
                   *[per_shop.c[name] for name in COUNTS])
    categories = (select(db.literal(None, db.Integer).label("shop_id"), Shop.category,
                         *[func.sum(per_shop.c[name]).label(name) for name in COUNTS])
                  .join(Shop, Shop.id == per_shop.c.shop_id).group_by(Shop.category))
    by_shop, by_category = {}, {}
    for row in db.session.execute(shops.union_all(categories)).mappings():
        if row["category"] is None:
            by_shop[row["shop_id"]] = figures(row)
        else:
            by_category[row["category"]] = figures(row)
    return by_shop, by_category


@dataclass
class ShopMetrics:
    shop: Shop
    first: object
    last: object
    days: int
    shop_figures: Figures
    category_figures: Figures
    alone: bool   # the only shop of its category: the category average is the shop's own figures


def shop_metrics(shop, today, days):
    first, last = window_days(today, days)
    others = db.session.execute(select(func.count()).select_from(Shop).where(
        Shop.category == shop.category, Shop.id != shop.id)).scalar_one()
    return ShopMetrics(shop=shop, first=first, last=last, days=days, shop_figures=shop_totals(shop.id, first, last),
                       category_figures=category_totals(shop.category, first, last), alone=not others)


def _series(rows, ends, window):
    """[(label, Figures over the `window` days ending that day)] for each day of `ends`."""
    by_day = {row["day"]: row for row in rows}
    points = []
    for end in ends:
        days = [end - timedelta(days=i) for i in range(window)]
        totals = {name: sum(int(by_day[d][name] or 0) for d in days if d in by_day) for name in COUNTS}
        points.append((end.strftime("%m-%d"), figures(totals)))
    return points


def trend(shop, today, days, step, window):
    """How the shop's and its category's window figures moved: one point every `step` days over the `days`
    days ending today, each the figures of the `window` days ending that day (a rate per single day is
    mostly noise: a refund closes on another day than its order was paid).
    Returns ([(label, Figures)], [(label, Figures)])."""
    ends = [today - timedelta(days=i) for i in range(0, days, step)][::-1]
    first = ends[0] - timedelta(days=window - 1)
    shop_rows = db.session.execute(select(ShopDailyStats.day, *_sums())
                                   .where(ShopDailyStats.shop_id == shop.id, ShopDailyStats.day.between(first, today))
                                   .group_by(ShopDailyStats.day)).mappings().all()
    category_rows = db.session.execute(select(ShopDailyStats.day, *_sums())
                                       .join(Shop, Shop.id == ShopDailyStats.shop_id)
                                       .where(Shop.category == shop.category, ShopDailyStats.day.between(first, today))
                                       .group_by(ShopDailyStats.day)).mappings().all()
    return _series(shop_rows, ends, window), _series(category_rows, ends, window)


def shop_penalties(shop_id, limit=50):
    """The shop's penalties, newest first, each with its case's number: [(Penalty, case number)] — what
    `templates/metrics/_penalties.html` lists (the dashboard's, and any page that shows a shop's penalties)."""
    return db.session.execute(select(Penalty, Case.number).join(Case, Case.id == Penalty.case_id)
                              .where(Penalty.shop_id == shop_id)
                              .order_by(Penalty.created_at.desc(), Penalty.id.desc()).limit(limit)).all()


def get_shop_service(user, shop_id):
    """The shop whose service `user` may see, else NotFound."""
    return ensure_can_view_shop_service(user, db.session.get(Shop, shop_id) if isinstance(shop_id, int) else None)
