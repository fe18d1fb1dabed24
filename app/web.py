"""Template helpers: money as ¥12.34, times in Asia/Shanghai, translated labels."""
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale

from .labels import label


def money(fen):
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def local_time(value, fmt="%Y-%m-%d %H:%M"):
    if value is None:
        return ""
    from datetime import timezone
    tz = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return value.replace(tzinfo=timezone.utc).astimezone(tz).strftime(fmt)


def register_template_helpers(app):
    app.jinja_env.filters.update(money=money, local_time=local_time)
    app.jinja_env.globals.update(label=label, current_locale=lambda: "zh_CN" if str(get_locale()).startswith("zh") else "en")
