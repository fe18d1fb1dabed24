from ..cases.models import Case, CaseEvent
from ..extensions import db
from ..orders.models import Order

# first-response time histogram: bucket i holds responses of less than RESPONSE_BUCKETS[i] minutes
# (the last bucket everything slower); the median is read from the buckets (app/metrics/queries.py)
RESPONSE_BUCKETS = (30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, None)


class ShopDailyStats(db.Model):
    """One shop's after-sales facts on one UTC day: counts and sums the window figures add up.
    Rebuilt from orders, cases, case events and ratings by app/metrics/services.py; never edited by hand."""
    __tablename__ = "shop_daily_stats"
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), primary_key=True)
    day = db.Column(db.Date, primary_key=True)
    paid_orders = db.Column(db.Integer, nullable=False, default=0)
    complaints = db.Column(db.Integer, nullable=False, default=0)
    refunds = db.Column(db.Integer, nullable=False, default=0)
    dispute_refunds = db.Column(db.Integer, nullable=False, default=0)
    timeout_refunds = db.Column(db.Integer, nullable=False, default=0)
    agreed_refunds = db.Column(db.Integer, nullable=False, default=0)
    breaches = db.Column(db.Integer, nullable=False, default=0)
    responses = db.Column(db.Integer, nullable=False, default=0)
    ratings = db.Column(db.Integer, nullable=False, default=0)
    rating_sum = db.Column(db.Integer, nullable=False, default=0)
    r0 = db.Column(db.Integer, nullable=False, default=0)
    r1 = db.Column(db.Integer, nullable=False, default=0)
    r2 = db.Column(db.Integer, nullable=False, default=0)
    r3 = db.Column(db.Integer, nullable=False, default=0)
    r4 = db.Column(db.Integer, nullable=False, default=0)
    r5 = db.Column(db.Integer, nullable=False, default=0)
    r6 = db.Column(db.Integer, nullable=False, default=0)
    r7 = db.Column(db.Integer, nullable=False, default=0)
    r8 = db.Column(db.Integer, nullable=False, default=0)
    r9 = db.Column(db.Integer, nullable=False, default=0)
    r10 = db.Column(db.Integer, nullable=False, default=0)
    computed_at = db.Column(db.DateTime, nullable=False)

    # the all-shop window query reads a range of days: (day, shop_id) serves it; the PK serves one shop
    __table_args__ = (db.Index("ix_shop_daily_stats_day", "day", "shop_id"),)


COUNTS = ("paid_orders", "complaints", "refunds", "dispute_refunds", "timeout_refunds", "agreed_refunds",
          "breaches", "responses", "ratings", "rating_sum") + tuple(f"r{i}" for i in range(len(RESPONSE_BUCKETS)))


# what the rollup of a range of days reads, by time: the sweeper recomputes today and yesterday (and the
# days of cases changed since its last run) without scanning the whole history
db.Index("ix_orders_paid_at", Order.paid_at)
db.Index("ix_cases_created_at", Case.created_at)
db.Index("ix_cases_closed_at", Case.closed_at)
db.Index("ix_cases_updated_at", Case.updated_at)
db.Index("ix_case_events_created_at", CaseEvent.created_at)
