"""How the audit log reads: a record's target by name, its detail as key/value lines (money as ¥, booleans as
yes/no, nothing for an empty value), and the reasons the system writes in English, in the admin's language."""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..labels import label
from ..web import money

# the detail keys of every record(...) call, as a person reads them
DETAIL_KEYS = {
    "username": _l("Username"), "role": _l("Role"), "shop_id": _l("Shop"), "name": _l("Name"),
    "categories": _l("Categories"), "members": _l("Members"), "amount_fen": _l("Amount"), "entry_id": _l("Ledger entry"),
    "case_id": _l("Case"), "case_number": _l("Case"), "state": _l("State"), "attempts_before": _l("Attempts before"),
    "error": _l("Error"), "points": _l("Points in force"), "days": _l("Days"), "restricted_until": _l("Restricted until"),
    "is_blacklisted": _l("Blacklisted"), "source": _l("Source"), "dismissed": _l("Dismissed claims"),
    "window_days": _l("Window (days)"), "before": _l("Before"), "after": _l("After"),
}
SOURCES = {"admin": _l("An admin"), "ruling": _l("The mediator's ruling"), "threshold": _l("Dismissed-claims threshold")}
# actions whose before/after are money (fen)
MONEY_ACTIONS = {"shop.required_deposit"}
# reasons the system writes (app/credit/services.py, app/execution/services.py), translated at display
REASONS = (
    (re.compile(r"^(?P<number>\S+): the mediator found the buyer at fault / malicious$"),
     _l("Case %(number)s: the mediator found the buyer at fault / malicious")),
    (re.compile(r"^(?P<n>\d+) claims dismissed within (?P<days>\d+) days \(threshold (?P<limit>\d+)\)$"),
     _l("%(n)s claims dismissed within %(days)s days (threshold %(limit)s)")),
    (re.compile(r"^(?P<points>\d+) penalty points in force \(case (?P<case>\d+)\)$"),
     _l("%(points)s penalty points in force (case %(case)s)")),
)


def reason_text(reason):
    for pattern, words in REASONS:
        found = pattern.match(reason or "")
        if found:
            return str(words) % found.groupdict()
    return reason


def _value(key, value, is_money=False):
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int) and (is_money or key.endswith("_fen")):
        return money(value)
    if isinstance(value, dict):
        if set(value) <= {"before", "after"}:
            return f"{_value(key, value.get('before'), is_money)} → {_value(key, value.get('after'), is_money)}"
        return "; ".join(f"{DETAIL_KEYS.get(k, k)}: {_value(k, v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(key, v) for v in value) or "—"
    if key == "role":
        return str(label("role", value))
    if key == "state":
        return str(label("task_state", value))
    if key == "categories":
        return str(label("category", value))
    if key == "source":
        return str(SOURCES.get(value, value))
    if key == "error":
        return _(value)
    return str(value)


def detail_lines(event):
    """[(name, text)] of the event's detail; a before/after pair is one line 'before → after'."""
    detail, is_money = dict(event.detail or {}), event.action in MONEY_ACTIONS
    lines = []
    if "before" in detail and "after" in detail:
        before, after = detail.pop("before"), detail.pop("after")
        lines.append((_("Change"), Markup.escape(_value("", {"before": before, "after": after}, is_money))))
    if "case_number" in detail:  # the number is what a person knows the case by
        detail.pop("case_id", None)
    for key, value in detail.items():
        if value is None:
            continue
        lines.append((DETAIL_KEYS.get(key, key), _value(key, value, is_money and key in ("before", "after"))))
    return lines
