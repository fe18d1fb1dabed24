"""Reads for the mediator overview and the reason analysis: aggregates over all cases of the platform,
computed by the database (GROUP BY, window functions), never case by case in Python.

Mediators and admins see the same all-platform figures: counts, medians and the workload of each
mediator by name — no case numbers, parties or amounts of cases they do not handle."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case as when, func, select
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..cases.models import PHASES, Case, CaseEvent
from ..catalog.models import CATEGORIES, Shop
from ..extensions import db
from ..ids import MAX_ID
from workflows.problems import Problem
from .sql import ALL, bucket, bucket_key, medians_by, seconds_between

# Deadlines that acted on someone's silence (the sweeper's own steps — the evidence period ending on time,
# execution checks — are not breaches): the system's event with one of these triggers is one breach.
BREACH_TRIGGERS = ("agree", "expire", "confirm_received", "fail_replacement", "confirm_replacement",
                   "hand_over", "auto_assign", "flag_overdue", "accept_by_silence")
TREND_DAYS = (30, 90)


def local_today(now):
    tz = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return now.replace(tzinfo=timezone.utc).astimezone(tz).date()


def day_start_utc(day):
    """Midnight of local `day` as naive UTC."""
    local = datetime.combine(day, time(), tzinfo=ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _count(*where):
    return db.session.execute(select(func.count()).select_from(Case).where(*where)).scalar_one()


@dataclass
class MediatorLoad:
    id: int
    name: str
    open_cases: int = 0        # assigned to them, not closed
    overdue_open: int = 0      # of those, flagged overdue at least once
    closed: int = 0            # closed in the window
    median_decision: float = None  # seconds, mediation start → decision, decisions in the window


@dataclass
class Overview:
    window_days: int
    since: datetime
    queue_size: int
    by_phase: list             # [(phase, open cases)] in workflow order
    open_total: int
    overdue_open: int          # open cases flagged overdue (a mediator's deadline passed)
    closed: int                # cases closed in the window
    median_to_close: float     # seconds, case opened → closed, cases closed in the window
    decided: int               # decisions (proposal accepted or ruled) in the window
    median_decision: float     # seconds, first entering mediation → decision
    breaches: list             # [(phase, trigger, count)] deadlines that acted on silence in the window
    mediators: list = field(default_factory=list)

    @property
    def breaches_total(self):
        return sum(n for _, _, n in self.breaches)


def overview(now, window_days):
    """Five statements whatever the number of cases: open cases (phase × mediator), cases closed in the window,
    decisions in the window, breaches in the window, the mediators."""
    since = now - timedelta(days=window_days)
    by_phase, loads = {}, {uid: MediatorLoad(uid, name) for uid, name in db.session.execute(
        select(User.id, User.display_name).where(User.role == "mediator").order_by(User.display_name, User.id))}
    queue = overdue_open = 0
    for phase, uid, n, overdue, queued in db.session.execute(
            select(Case.phase, Case.mediator_id, func.count(), func.sum(when((Case.overdue_count > 0, 1), else_=0)),
                   func.sum(when((and_(Case.state == "queued", Case.mediator_id.is_(None)), 1), else_=0)))
            .where(Case.phase != "closed").group_by(Case.phase, Case.mediator_id)):
        by_phase[phase] = by_phase.get(phase, 0) + n
        queue, overdue_open = queue + int(queued or 0), overdue_open + int(overdue or 0)
        if uid in loads:
            loads[uid].open_cases += n
            loads[uid].overdue_open += int(overdue or 0)

    to_close = medians_by(select(Case.mediator_id, seconds_between(Case.created_at, Case.closed_at))
                          .where(Case.closed_at >= since, Case.closed_at <= now))

    decision, entered = aliased(CaseEvent), aliased(CaseEvent)
    started = (select(func.min(entered.created_at))
               .where(entered.case_id == decision.case_id, entered.to_phase == "mediation").scalar_subquery())
    # the case's mediator by its primary key, row by row: the window holds a few thousand decisions, and a
    # join made PostgreSQL hash the whole cases table for them
    mediator = select(Case.mediator_id).where(Case.id == decision.case_id).scalar_subquery()
    decisions = medians_by(select(mediator, seconds_between(started, decision.created_at))
                           .where(decision.from_phase == "resolution", decision.to_phase != "resolution",
                                  decision.created_at >= since, decision.created_at <= now))
    for uid, load in loads.items():
        load.closed = to_close.get(uid, (None, 0))[1]
        load.median_decision = decisions.get(uid, (None, 0))[0]

    breaches = db.session.execute(
        select(CaseEvent.from_phase, CaseEvent.trigger, func.count())
        .where(CaseEvent.actor_role == "system", CaseEvent.trigger.in_(BREACH_TRIGGERS),
               CaseEvent.created_at >= since, CaseEvent.created_at <= now)
        .group_by(CaseEvent.from_phase, CaseEvent.trigger)).all()
    phase_order = {p: i for i, p in enumerate(PHASES)}
    breaches = sorted(((p, t, n) for p, t, n in breaches), key=lambda r: (phase_order.get(r[0], 99), -r[2], r[1]))

    (median_to_close, closed), (median_decision, decided) = to_close.get(ALL, (None, 0)), decisions.get(ALL, (None, 0))
    return Overview(
        window_days=window_days, since=since, queue_size=queue,
        by_phase=[(p, by_phase.get(p, 0)) for p in PHASES if p != "closed"], open_total=sum(by_phase.values()),
        overdue_open=overdue_open, closed=closed, median_to_close=median_to_close,
        decided=decided, median_decision=median_decision, breaches=breaches, mediators=list(loads.values()))


def trend(now, days):
    """[(local day 'YYYY-MM-DD', opened, closed)] for the last `days` local days, today included."""
    today = local_today(now)
    first = today - timedelta(days=days - 1)
    start = day_start_utc(first)
    series = {}
    for column in (Case.created_at, Case.closed_at):
        b = bucket(column, "day")
        series[column.key] = {bucket_key(day): n for day, n in db.session.execute(
            select(b, func.count()).where(column >= start, column <= now).group_by(b))}
    out = []
    for i in range(days):
        day = (first + timedelta(days=i)).isoformat()
        out.append((day, series["created_at"].get(day, 0), series["closed_at"].get(day, 0)))
    return out


# ------------------------------------------------------------------ reason analysis

GROUPS = ("week", "month")
DIMENSIONS = (("reason", Case.reason), ("complaint_type", Case.complaint_type))
MAX_RANGE_DAYS = 730  # days in a period, both ends counted: two years
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ID = re.compile(r"[1-9][0-9]{0,18}")

@dataclass(frozen=True)
class AnalysisFilter:
    date_from: date
    date_to: date
    category: str = None
    shop: int = None
    group: str = "week"


def analysis_filter(args, today, *, blank_is_none=True):
    """(AnalysisFilter, {field: Problem}) from query-string values; with problems the filter is None. A page's
    empty field is no filter (`blank_is_none`); the API refuses an empty value like any other bad one. The
    period defaults to the 12 weeks (84 days) up to today."""
    problems, values = {}, {}

    def given(name):
        raw = args.get(name)
        return None if raw is None or (blank_is_none and raw.strip() == "") else raw.strip()

    for name in ("date_from", "date_to"):
        raw = given(name)
        if raw is not None:
            try:
                values[name] = date.fromisoformat(raw) if DATE.fullmatch(raw) else None
            except ValueError:
                values[name] = None
            if values[name] is None:
                problems[name] = Problem("a date as YYYY-MM-DD", "not_a_date")
    choices = {"category": CATEGORIES, "group": GROUPS}
    for name in ("category", "group"):
        raw = given(name)
        if raw is not None:
            if raw in choices[name]:
                values[name] = raw
            else:
                problems[name] = Problem(f"one of {', '.join(choices[name])}", "not_a_choice")
    raw = given("shop")
    if raw is not None:
        if ID.fullmatch(raw) and int(raw) <= MAX_ID:
            values["shop"] = int(raw)
        else:
            problems["shop"] = Problem(f"a shop's id from 1 to {MAX_ID}", "not_a_choice")
    if problems:
        return None, problems
    values.setdefault("date_to", today)
    values.setdefault("date_from", values["date_to"] - timedelta(days=12 * 7 - 1))
    if values["date_from"] > values["date_to"]:
        return None, {"date_from": Problem("not after date_to", "date_order")}
    if (values["date_to"] - values["date_from"]).days >= MAX_RANGE_DAYS:
        return None, {"date_from": Problem(f"a period of at most {MAX_RANGE_DAYS} days", "range_too_long")}
    return AnalysisFilter(**values), {}


def _bucket_starts(f):
    """Every bucket start ('YYYY-MM-DD') the period touches, in order."""
    if f.group == "week":
        d = f.date_from - timedelta(days=f.date_from.weekday())
        step = lambda d: d + timedelta(days=7)  # noqa: E731
    else:
        d = f.date_from.replace(day=1)
        step = lambda d: (d.replace(day=28) + timedelta(days=4)).replace(day=1)  # noqa: E731
    out = []
    while d <= f.date_to:
        out.append(d.isoformat())
        d = step(d)
    return out


@dataclass
class Analysis:
    filter: AnalysisFilter
    buckets: list               # bucket starts
    rows: list                  # [(dimension, code, category, bucket, cases)] — the CSV's rows
    by_code: dict               # {dimension: [(code, total, {bucket: cases})]} most cases first
    by_category: dict           # {dimension: {code: {category: cases}}}
    categories: list            # categories that have cases
    shops: list                 # [(shop id, name, cases, (dimension, code) most frequent)] most cases first
    total: int


def analysis(f, *, shop_limit=10):
    start = day_start_utc(f.date_from)
    end = day_start_utc(f.date_to + timedelta(days=1))
    where = [Case.created_at >= start, Case.created_at < end]
    if f.category:
        where.append(Case.category == f.category)
    if f.shop:
        where.append(Case.shop_id == f.shop)
    b = bucket(Case.created_at, f.group)
    counts, total = {}, 0  # one pass over the period's cases: every figure below is a sum of these groups
    for reason, complaint_type, category, period, n in db.session.execute(
            select(Case.reason, Case.complaint_type, Case.category, b, func.count()).where(*where)
            .group_by(Case.reason, Case.complaint_type, Case.category, b)):
        total, period = total + n, bucket_key(period)
        for key in (("reason", reason), ("complaint_type", complaint_type)):
            if key[1] is not None:
                counts[(*key, category, period)] = counts.get((*key, category, period), 0) + n
    order = {d: i for i, (d, _c) in enumerate(DIMENSIONS)}
    rows = sorted(((d, code, category, period, n) for (d, code, category, period), n in counts.items()),
                  key=lambda r: (order[r[0]], r[1], r[2] or "", r[3]))
    by_code, by_category = {}, {}
    for dimension, code, category, period, n in rows:
        periods = by_code.setdefault(dimension, {}).setdefault(code, {})
        periods[period] = periods.get(period, 0) + n
        cats = by_category.setdefault(dimension, {}).setdefault(code, {})
        cats[category] = cats.get(category, 0) + n
    by_code = {d: sorted(((code, sum(p.values()), p) for code, p in codes.items()), key=lambda r: (-r[1], r[0]))
               for d, codes in by_code.items()}
    categories = sorted({c for _, _, c, _, _ in rows}, key=lambda c: (c is None, c or ""))

    per_shop = db.session.execute(
        select(Case.shop_id, Case.reason, Case.complaint_type, func.count())
        .where(*where).group_by(Case.shop_id, Case.reason, Case.complaint_type)).all()
    shops = {}  # {shop: [cases, {(dimension, code): cases}]}; a case counts under its request's reason if any
    for shop_id, reason, complaint_type, n in per_shop:
        entry = shops.setdefault(shop_id, [0, {}])
        entry[0] += n
        key = ("reason", reason) if reason else ("complaint_type", complaint_type) if complaint_type else None
        if key:
            entry[1][key] = entry[1].get(key, 0) + n
    top = sorted(shops.items(), key=lambda kv: (-kv[1][0], kv[0]))[:shop_limit]
    names = dict(db.session.execute(select(Shop.id, Shop.name).where(Shop.id.in_([s for s, _ in top]))).all())
    return Analysis(filter=f, buckets=_bucket_starts(f), rows=rows, by_code=by_code, by_category=by_category,
                    categories=categories, total=total,
                    shops=[(sid, names.get(sid, str(sid)), n, _top(codes)) for sid, (n, codes) in top])


def _top(counts):
    """(dimension, code) with the most cases; ties go to the first in order."""
    return min(counts, key=lambda k: (-counts[k], k)) if counts else None


def shop_choices():
    """[(id, name)] of the shops that have cases, by name."""
    return db.session.execute(select(Shop.id, Shop.name).where(
        select(Case.id).where(Case.shop_id == Shop.id).exists()).order_by(Shop.name)).all()
