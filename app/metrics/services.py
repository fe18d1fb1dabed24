"""Seller service metrics (卖家服务质量): the daily rollup behind them, and after-sales ratings.

Definitions (the page's help text says the same):
- paid orders: the shop's orders by the Beijing day they were paid — the denominator of every rate;
- dispute refund rate (纠纷退款率): refunds the platform ruled against the seller — a mediator's proposal
  or final ruling with a refund remedy that was carried out — / paid orders;
- complaint rate (投诉率): cases that became complaints (filed directly or escalated), by the day the case
  was opened / paid orders;
- refund rate: cases that ended in a refund of any kind (full, partial, return-then-refund, compensation)
  / paid orders; refunds count on the day the case closed (the money had moved);
- timeout refunds (超时退款): refunds the system agreed because the seller stayed silent, counted apart from
  refunds the seller agreed in time (the seed: they weigh differently in the service score);
- median first response: from an after-sales request to the seller's first action on it, counted on the
  day of that action, kept as a histogram in fixed buckets (models.RESPONSE_BUCKETS) — the median is the
  bucket that holds the ⌈n/2⌉-th fastest response, shown as "under <bucket bound>";
- deadline breaches: each time a deadline acted on the seller's silence;
- ratings (售后服务评价): count and average of the buyers' ratings, by the day they were given.
Cases where the mediator found the buyer malicious (`buyer_malicious`) are left out of every figure but
paid orders (the seed: 判定为恶意退款 are deleted from the score). Which events count is in workflows/metrics.py.

The rollup: one `shop_daily_stats` row per shop and day (the
Beijing calendar day, as every screen shows time: app.timeutil.local_date), computed by the database (one INSERT … SELECT
over orders, cases, case_events and case_ratings per range of days). The sweeper calls `refresh_rollups`:
today and yesterday, plus every day a case changed since the last run touches; `flask metrics rebuild`
recomputes everything. A window figure is the sum of its days (queries.py)."""
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, text

from workflows.metrics import BREACH_TRIGGERS, DISPUTE_TRIGGERS, REFUND_REMEDIES, TIMEOUT_REFUND_TRIGGERS

from ..auth.policy import can_rate_case, case_role
from ..cases.models import Case, CaseEvent, CaseRating
from ..db_tx import lock, transaction
from ..errors import ActionNotAvailable, Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..orders.models import Order
from ..timeutil import display_offset, local_date, local_midnight_utc, utcnow
from .models import COUNTS, RESPONSE_BUCKETS, ShopDailyStats


def _quoted(values):
    return ", ".join(f"'{v}'" for v in values)


def _seconds(later, earlier):
    """Whole seconds between two timestamps (SQLite's julianday arithmetic is rounded: 30 minutes would
    come out as 29.99999 and land in the bucket below)."""
    if db.engine.dialect.name == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"round((julianday({later}) - julianday({earlier})) * 86400)"


def _day(column):
    """The display zone's calendar day of `column` (naive UTC) in SQL: the offset is written into the SQL
    (a constant of the configured zone, never input) so the same text serves SELECT and GROUP BY."""
    minutes = int(display_offset().total_seconds() // 60)
    if db.engine.dialect.name == "postgresql":
        return f"date({column} + interval '{minutes} minutes')"
    return f"date({column}, '{minutes:+d} minutes')"


def _fact(shop, day, values, rest):
    columns = ", ".join(f"{values.get(name, '0')} AS {name}" for name in COUNTS)
    return f"SELECT {shop} AS shop_id, {day} AS day, {columns} {rest}"


def _rollup_sql(ranged):
    """INSERT … SELECT of the rollup rows, for the days [:lo, :hi) when `ranged`, else for all days."""
    def within(column):
        return f"AND {column} >= :lo AND {column} < :hi" if ranged else ""

    honest = "c.buyer_malicious = false"
    bucket = " ".join(f"WHEN m < {bound * 60} THEN {i}" for i, bound in enumerate(RESPONSE_BUCKETS) if bound)
    last = len(RESPONSE_BUCKETS) - 1
    seller_events_in_range = (f"AND c.id IN (SELECT e2.case_id FROM case_events e2 WHERE e2.actor_role = 'seller' "  # nosec B608  SQL from constants of this module and workflows/metrics.py; values are bound
                              f"{within('e2.created_at')})") if ranged else ""
    facts = [
        _fact("o.shop_id", _day("o.paid_at"), {"paid_orders": "count(*)"},
              f"FROM orders o WHERE o.paid_at IS NOT NULL {within('o.paid_at')} "
              f"GROUP BY o.shop_id, {_day('o.paid_at')}"),
        _fact("c.shop_id", _day("c.created_at"), {"complaints": "count(*)"},
              f"FROM cases c WHERE c.complaint_type IS NOT NULL AND {honest} {within('c.created_at')} "
              f"GROUP BY c.shop_id, {_day('c.created_at')}"),
        _fact("x.shop_id", _day("x.closed_at"), {
            "refunds": "count(*)",
            "dispute_refunds": "sum(CASE WHEN x.dispute THEN 1 ELSE 0 END)",
            "timeout_refunds": "sum(CASE WHEN x.dispute THEN 0 WHEN x.timeout THEN 1 ELSE 0 END)",
            "agreed_refunds": "sum(CASE WHEN x.dispute THEN 0 WHEN x.timeout THEN 0 ELSE 1 END)"},
              "FROM (SELECT c.shop_id, c.closed_at, "  # nosec B608  SQL from constants of this module and workflows/metrics.py; values are bound
              # counted per case through the (case_id, seq) index: an EXISTS here was planned as a hashed
              # subplan over all of case_events, 0.3 s of each sweep at 100,000 cases (bench/metrics.py)
              f"(SELECT count(*) FROM case_events e WHERE e.case_id = c.id "
              f"AND e.trigger IN ({_quoted(DISPUTE_TRIGGERS)})) > 0 AS dispute, "
              f"(SELECT count(*) FROM case_events e WHERE e.case_id = c.id AND e.actor_role = 'system' "
              f"AND e.trigger IN ({_quoted(TIMEOUT_REFUND_TRIGGERS)})) > 0 AS timeout "
              f"FROM cases c WHERE c.phase = 'closed' AND c.state = 'resolved' "
              f"AND c.remedy_type IN ({_quoted(REFUND_REMEDIES)}) AND c.remedy_amount_fen > 0 AND {honest} "
              f"{within('c.closed_at')}) x GROUP BY x.shop_id, {_day('x.closed_at')}"),
        _fact("c.shop_id", _day("e.created_at"), {"breaches": "count(*)"},
              "FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.actor_role = 'system' "
              f"AND (e.trigger IN ({_quoted(BREACH_TRIGGERS)}) OR (e.trigger = 'accept_by_silence' "
              f"AND CAST(e.payload AS TEXT) LIKE '%seller%')) AND {honest} {within('e.created_at')} "
              f"GROUP BY c.shop_id, {_day('e.created_at')}"),
        _fact("f.shop_id", _day("f.first_at"),
              {"responses": "count(*)", **{f"r{i}": f"sum(CASE WHEN f.b = {i} THEN 1 ELSE 0 END)"
                                          for i in range(len(RESPONSE_BUCKETS))}},
              f"FROM (SELECT g.shop_id, g.first_at, CASE {bucket} ELSE {last} END AS b FROM ("  # nosec B608  SQL from constants of this module and workflows/metrics.py; values are bound
              f"SELECT c.shop_id, min(e.created_at) AS first_at, "
              f"{_seconds('min(e.created_at)', 'c.created_at')} AS m "
              "FROM cases c JOIN case_events e ON e.case_id = c.id AND e.actor_role = 'seller' "
              f"WHERE c.kind <> 'complaint' AND {honest} {seller_events_in_range} "
              "GROUP BY c.id, c.shop_id, c.created_at) g) f "
              f"WHERE 1 = 1 {within('f.first_at')} GROUP BY f.shop_id, {_day('f.first_at')}"),
        _fact("r.shop_id", _day("r.created_at"), {"ratings": "count(*)", "rating_sum": "sum(r.score)"},
              f"FROM case_ratings r JOIN cases c ON c.id = r.case_id WHERE {honest} {within('r.created_at')} "
              f"GROUP BY r.shop_id, {_day('r.created_at')}"),
    ]
    names = ", ".join(COUNTS)
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    sql = (f"INSERT INTO shop_daily_stats (shop_id, day, {names}, computed_at) "  # nosec B608  SQL from constants of this module and workflows/metrics.py; values are bound
           f"SELECT shop_id, day, {sums}, :now FROM ({' UNION ALL '.join(facts)}) u GROUP BY shop_id, day "
           # rows land in day order: a window's days are then neighbours on disk (the sweeper appends new days)
           "ORDER BY day, shop_id")
    params = [bindparam("now", type_=db.DateTime)]
    if ranged:
        params += [bindparam("lo", type_=db.DateTime), bindparam("hi", type_=db.DateTime)]
    return text(sql).bindparams(*params)


ROLLUP_LOCK = 13_0001  # PostgreSQL advisory lock: one rollup writer at a time (two sweepers, or a rebuild)


def _one_writer():
    """Sweepers running at once would both delete a day and both insert it (a duplicate key): the second
    waits for the first instead, then recomputes the same days (the result is the same)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROLLUP_LOCK})


def _recompute_day(day, now):
    lo = local_midnight_utc(day)
    db.session.execute(text("DELETE FROM shop_daily_stats WHERE day = :day")
                       .bindparams(bindparam("day", type_=db.Date)), {"day": day})
    db.session.execute(_rollup_sql(ranged=True), {"lo": lo, "hi": lo + timedelta(days=1), "now": now})


def rebuild_rollups(*, now=None):
    """Recompute every day of every shop from scratch (`flask metrics rebuild`)."""
    now = now or utcnow()
    with transaction():
        _one_writer()
        db.session.execute(text("DELETE FROM shop_daily_stats"))
        db.session.execute(_rollup_sql(ranged=False), {"now": now})
        # counted before the commit: a read after it would leave the session in a transaction holding a lock
        # on the rollup (a migration's DROP INDEX then waited on `flask demo load` for ever)
        rows = db.session.execute(select(db.func.count()).select_from(ShopDailyStats)).scalar_one()
    return rows


def _day_of(value):
    """The Beijing day of a naive-UTC time as either database returns it (a datetime, or text on SQLite)."""
    if value is None:
        return None
    return local_date(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def touched_days(since, now):
    """The days whose figures may have changed since `since`: today, yesterday, and every day a case
    changed since then counts something on (its opening, its closing, its events, its rating)."""
    today = local_date(now)
    days = {today, today - timedelta(days=1)}
    changed = select(Case.id).where(Case.updated_at >= since)
    queries = [
        select(Case.created_at).where(Case.updated_at >= since),
        select(Case.closed_at).where(Case.updated_at >= since),
        select(CaseEvent.created_at).where(CaseEvent.case_id.in_(changed)),
        select(CaseEvent.created_at).where(CaseEvent.created_at >= since),
        select(CaseRating.created_at).where(CaseRating.case_id.in_(changed)),
        select(CaseRating.created_at).where(CaseRating.created_at >= since),
        select(Order.paid_at).where(Order.paid_at >= since),
    ]
    for query in queries:
        days.update(_day_of(v) for v in db.session.execute(query.distinct()).scalars())
    days.discard(None)
    return sorted(days)


def refresh_rollups(*, now=None):
    """Keep the rollup current (the sweeper runs it): rebuild everything when there is no rollup yet,
    else recompute the touched days. Returns the days recomputed (None for a full rebuild)."""
    now = now or utcnow()
    since = db.session.execute(select(db.func.max(ShopDailyStats.computed_at))).scalar()
    db.session.rollback()
    if since is None:
        rebuild_rollups(now=now)
        return None
    with transaction():
        _one_writer()
        days = touched_days(since, now)
        for day in days:
            _recompute_day(day, now)
    return days


# ---------------------------------------------------------------- after-sales rating (售后服务评价)

def rate_case(case_id, *, actor, score, comment="", now=None):
    """The buyer rates how a closed case was handled, once (1–5 and a comment). A case the actor may not
    see is NotFound; another party of the case gets Forbidden; an open case or a second rating, 409."""
    now = now or utcnow()
    errors = {}
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        errors["score"] = "an integer from 1 to 5"
    if not isinstance(comment, str) or len(comment) > 1000:
        errors["comment"] = "text of at most 1000 characters"
    with transaction():
        case = lock(Case, case_id, fresh=True) if isinstance(case_id, int) else None
        if case is None or actor is None or case_role(actor, case) is None:
            raise NotFound("Case not found")
        if case_role(actor, case) != "buyer":
            raise Forbidden("Only the buyer of the case may rate it")
        if errors:
            raise Invalid("Invalid rating", errors)
        if not can_rate_case(actor, case):
            raise ActionNotAvailable("The case can be rated once it is closed", {"available_actions": []})
        if db.session.execute(select(CaseRating.id).where(CaseRating.case_id == case.id)).first() is not None:
            raise Conflict("This case has already been rated")
        rating = CaseRating(case_id=case.id, buyer_id=case.buyer_id, shop_id=case.shop_id, score=score,
                            comment=comment.strip(), created_at=now)
        db.session.add(rating)
    return rating
