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
    "not_number": _l("Please enter a number."),
    "not_text": _l("Please enter text."),
    "not_a_choice": _l("Please choose one of the options."),
    "too_long": _l("At most %(max)s characters."),
    "too_many": _l("At most %(max)s entries."),
    "penalty_kind": _l("Choose a kind of penalty."),
    "penalty_takedown": _l("Choose the listing to take down."),
    "penalty_points": _l("Points between %(min)s and %(max)s."),
    "penalty_restrict": _l("Restriction between %(min)s and %(max)s days."),
    "listing_not_of_shop": _l("Only this shop's listings can be taken down."),
    "dismiss_only": _l("This complaint has no order to refund or exchange: dismiss it, with penalties if the shop "
                       "broke the rules."),
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
