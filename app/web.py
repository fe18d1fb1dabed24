"""Template helpers: money as ¥12.34, times in Asia/Shanghai, translated labels, field problems
in the user's language."""
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

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


# how a page words each Problem code (workflows/problems.py); money values are fen, shown in yuan
PROBLEM_TEXTS = {
    "required": _l("Please fill this in."),
    "range_fen": _l("Between %(low)s and %(high)s."),
    "max_fen": _l("At most %(high)s."),
}
MONEY_VALUES = ("low", "high", "amount")


def problem_text(problem):
    """A field's problem as a page shows it: in the user's language, money in yuan, no internal names."""
    template = PROBLEM_TEXTS.get(getattr(problem, "code", None))
    if template is None:
        return str(_l("Please check this field."))
    values = {k: money(v) if k in MONEY_VALUES else v for k, v in problem.values.items()}
    return str(template) % values


def register_template_helpers(app):
    app.jinja_env.filters.update(money=money, local_time=local_time)
    app.jinja_env.globals.update(label=label, current_locale=lambda: "zh_CN" if str(get_locale()).startswith("zh") else "en")
