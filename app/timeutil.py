"""Times are stored as naive UTC in the database and shown in Asia/Shanghai."""
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(value):
    """A naive-UTC datetime for storage, from an aware or naive (assumed UTC) one."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def isoformat(value):
    """ISO 8601 with offset, as the API promises."""
    return None if value is None else value.replace(tzinfo=timezone.utc).isoformat()


def display_offset():
    """The display zone's offset from UTC (Asia/Shanghai: +8 h, no daylight saving, so one constant)."""
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]).utcoffset(datetime.now())


def local_date(value):
    """The display zone's calendar day of a naive-UTC time: 2026-12-01 16:00 UTC is Beijing's 12-02."""
    return (value + display_offset()).date()


def local_midnight_utc(day):
    """Midnight starting the display zone's `day`, as naive UTC: Beijing's 12-02 starts 12-01 16:00 UTC."""
    return datetime.combine(day, time()) - display_offset()
