"""What an admin may set each rule of the rules table to (the admin console's rules editor).

A rule's kind follows its default's type and its name, so keys added to DEFAULTS later are editable
without a line here: integers are whole numbers ≥ 0 with a ceiling by unit (hours up to a year, days up
to ten years, percents up to 100, fen up to ¥1,000,000, anything else — counts, points — up to 10,000);
floats likewise ≥ 0 (rates and shares named *_percent / *_rate up to 100); booleans are true/false;
mappings and lists (the reason codes) are read-only. Windows, point thresholds and deadlines in hours are at
least 1 (an `_hours` rule may be 0 only where its default is 0); "-0" is refused like any negative. A `*_min_*` rule may not exceed its `*_max_*` pair."""
import math
from collections.abc import Mapping

from .problems import Problem
from .rules import DEFAULTS

# windows and thresholds that mean nothing at 0 (a 0-day window counts nothing; 0 points would restrict every shop)
FLOOR_ONE = ("_days", "_points", "max_task_attempts")
# deadlines: at least an hour — a deadline re-armed at now + 0 h (flag_overdue, a retried timeout) is due again at
# once — except where the default itself is 0 (task_start_hours: a task may start at once)
FLOOR_ONE_HOURS = "_hours"
# pairs whose first rule must stay below the second (restriction before blacklisting)
BELOW = (("penalty_restrict_points", "penalty_blacklist_points"),)
CEILINGS = (("_hours", 365 * 24), ("_days", 3650), ("_percent", 100), ("_rate", 100), ("_fen", 100_000_000))
COUNT_CEILING = 10_000


def editable(key):
    default = DEFAULTS[key]
    return isinstance(default, (bool, int, float)) and not isinstance(default, Mapping)


def ceiling(key):
    return next((top for suffix, top in CEILINGS if key.endswith(suffix)), COUNT_CEILING)


def _low(key):
    if key.endswith(FLOOR_ONE) or (key.endswith(FLOOR_ONE_HOURS) and DEFAULTS[key] != 0):
        return 1
    return 0


def kind_of(key):
    default = DEFAULTS[key]
    return "bool" if isinstance(default, bool) else "int" if isinstance(default, int) else "float"


def parse_rule(key, text):
    """The value `text` (a form's or the API's string, or a number) stands for, checked for `key`;
    raises ValueError with a Problem."""
    if key not in DEFAULTS:
        raise ValueError(Problem("unknown rule", "rule_unknown"))
    if not editable(key):
        raise ValueError(Problem("this rule is read-only", "rule_read_only"))
    kind, raw = kind_of(key), text.strip() if isinstance(text, str) else text
    if kind == "bool":
        if raw in (True, False):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false", "1", "0", "yes", "no"):
            return raw.lower() in ("true", "1", "yes")
        raise ValueError(Problem("true or false", "rule_bool"))
    if isinstance(raw, bool):  # JSON true for a number
        raise ValueError(Problem("a number", "rule_number"))
    try:
        value = int(raw) if kind == "int" else float(raw)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(Problem("a whole number" if kind == "int" else "a number",
                                 "rule_int" if kind == "int" else "rule_number")) from None
    if isinstance(raw, float) and kind == "int":  # 1.5 for an integer rule (from the API's JSON)
        raise ValueError(Problem("a whole number", "rule_int"))
    if value != value:  # NaN
        raise ValueError(Problem("a number", "rule_number"))
    top, low = ceiling(key), _low(key)
    if not low <= value <= top or (isinstance(raw, str) and raw.startswith("-")) or math.copysign(1, value) < 0:
        # "-0" (or -0.0) is refused like any negative
        raise ValueError(Problem(f"between {low} and {top}", "rule_range", low=low, high=top))
    return value


def pair_problem(key, value, current):
    """A Problem when `key` = `value` would put a *_min_* rule above its *_max_* pair (`current`: the
    effective rules), else None; likewise for the BELOW pairs, which must stay strictly ordered."""
    for below, above in BELOW:
        if key == below and value >= current[above]:
            return Problem(f"below {above} ({current[above]})", "rule_not_below", other=current[above], rule=above)
        if key == above and value <= current[below]:
            return Problem(f"above {below} ({current[below]})", "rule_not_above", other=current[below], rule=below)
    for low, high in (("_min_", "_max_"), ("min_", "max_")):
        if low in key and key.replace(low, high, 1) in DEFAULTS and value > current[key.replace(low, high, 1)]:
            top = current[key.replace(low, high, 1)]
            return Problem(f"at most {key.replace(low, high, 1)} ({top})", "rule_above_max", other=top)
        if high in key and key.replace(high, low, 1) in DEFAULTS and value < current[key.replace(high, low, 1)]:
            bottom = current[key.replace(high, low, 1)]
            return Problem(f"at least {key.replace(high, low, 1)} ({bottom})", "rule_below_min", other=bottom)
    return None
