"""SQL pieces that differ between PostgreSQL and SQLite: the calendar bucket a timestamp falls in (day, week
starting Monday, month — in the display time zone) and the seconds between two timestamps; and a median per
group with window functions (both databases have ROW_NUMBER / COUNT OVER; SQLite since 3.25).

Times are stored as naive UTC. The display zone (Asia/Shanghai) has no daylight saving, so its offset is one
constant added before truncating; a zone with DST would put the hour around a change in the wrong bucket."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Float, Integer, cast, extract, func, literal_column, select

from ..extensions import db

UNITS = ("day", "week", "month")


def dialect():
    return db.session.get_bind().dialect.name


def display_offset_minutes():
    offset = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]).utcoffset(datetime.now())
    return int(offset.total_seconds() // 60)


def bucket(column, unit):
    """'YYYY-MM-DD' of the local day / Monday / first of the month that `column` (naive UTC) falls in.
    Constants are written into the SQL (not bound) so the same expression in SELECT and GROUP BY is
    identical text to PostgreSQL; they come from UNITS and the configured zone, never from a request."""
    if unit not in UNITS:
        raise ValueError(unit)
    minutes = display_offset_minutes()
    if dialect() == "postgresql":
        shifted = column + literal_column(f"interval '{minutes} minutes'")
        return func.to_char(func.date_trunc(literal_column(f"'{unit}'"), shifted), literal_column("'YYYY-MM-DD'"))
    modifiers = {"day": [], "week": ["'weekday 0'", "'-6 days'"], "month": ["'start of month'"]}[unit]
    return func.date(column, literal_column(f"'{minutes:+d} minutes'"), *map(literal_column, modifiers))


def seconds_between(start, end):
    if dialect() == "postgresql":
        return cast(extract("epoch", end - start), Float)
    return cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)  # whole seconds


def medians(rows):
    """{group: median of value} for a select of (group, value) rows; an even count takes the mean of the
    middle two."""
    group, value = rows.selected_columns
    inner = rows.with_only_columns(group.label("g"), value.label("v"), maintain_column_froms=True).subquery()
    g, v = inner.c.g, inner.c.v
    ranked = select(g.label("g"), v.label("v"),
                    func.row_number().over(partition_by=g, order_by=v).label("rn"),
                    func.count().over(partition_by=g).label("n")).subquery()
    query = (select(ranked.c.g, func.avg(ranked.c.v))
             .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
             .group_by(ranked.c.g))
    return {group: float(value) for group, value in db.session.execute(query)}
