"""Times are stored as naive UTC in the database and shown in Asia/Shanghai."""
from datetime import datetime, timezone


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
