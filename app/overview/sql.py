"""SQL pieces that differ between PostgreSQL and SQLite: the calendar bucket a timestamp falls in (day, week
starting Monday, month — in the display time zone) and the seconds between two timestamps; and a median per
group with window functions (both databases have ROW_NUMBER / COUNT OVER; SQLite since 3.25).

Times are stored as naive UTC. The display zone (Asia/Shanghai) has no daylight saving, so its offset is one
constant added before truncating; a zone with DST would put the hour around a change in the wrong bucket."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Float, Integer, cast, extract, func, literal_column, select, union_all

from ..extensions import db

UNITS = ("day", "week", "month")


def dialect():
    return db.session.get_bind().dialect.name


def display_offset_minutes():
    offset = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]).utcoffset(datetime.now())
    return int(offset.total_seconds() // 60)


def bucket(column, unit):
    """The local day / Monday / first of the month that `column` (naive UTC) falls in: a timestamp on
    PostgreSQL (grouping by it is ~3x faster than by its text: the planner then hashes instead of sorting), a
    'YYYY-MM-DD' text on SQLite — `bucket_key` makes either the same 'YYYY-MM-DD'.
    Constants are written into the SQL (not bound) so the same expression in SELECT and GROUP BY is
    identical text to PostgreSQL; they come from UNITS and the configured zone, never from a request."""
    if unit not in UNITS:
        raise ValueError(unit)
    minutes = display_offset_minutes()
    if dialect() == "postgresql":
        shifted = column + literal_column(f"interval '{minutes} minutes'")
        return func.date_trunc(literal_column(f"'{unit}'"), shifted)
    modifiers = {"day": [], "week": ["'weekday 0'", "'-6 days'"], "month": ["'start of month'"]}[unit]
    return func.date(column, literal_column(f"'{minutes:+d} minutes'"), *map(literal_column, modifiers))


def bucket_key(value):
    """'YYYY-MM-DD' of a bucket as either database returns it (a datetime or that text)."""
    return value.date().isoformat() if isinstance(value, datetime) else value


def seconds_between(start, end):
    if dialect() == "postgresql":
        return cast(extract("epoch", end - start), Float)
    return cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)  # whole seconds


ALL = -1  # the group of every row, beside the groups of `medians_by` (ids are positive)


def medians_by(rows):
    """{group: (median of value, rows)} for a select of (group, value) rows, plus ALL: (median, rows) of every
    row — in one statement, the rows read once (a CTE). An even count takes the mean of the middle two."""
    group, value = rows.selected_columns
    base = rows.with_only_columns(group.label("g"), value.label("v"), maintain_column_froms=True).cte("base")
    both = union_all(select(base.c.g, base.c.v), select(literal_column(str(ALL)).label("g"), base.c.v)).subquery()
    ranked = select(both.c.g, both.c.v,
                    func.row_number().over(partition_by=both.c.g, order_by=both.c.v).label("rn"),
                    func.count().over(partition_by=both.c.g).label("n")).subquery()
    query = (select(ranked.c.g, func.avg(ranked.c.v), func.max(ranked.c.n))
             .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
             .group_by(ranked.c.g))
    return {g: (float(median), n) for g, median, n in db.session.execute(query)}
