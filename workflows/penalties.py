"""Penalty points (扣分) and what they bring: the shop's standing and the thresholds it crosses.

Taobao's rules for serious violations (严重违规): every 12 points in force restrict the shop for
7 days per 12 (12 → 7 days, 24 → 14, 36 → 21: 限制发布商品 / 店铺屏蔽), and 48 points close it
(查封账户). Points stop counting after `penalty_points_expire_days` (Taobao zeroes them each year).
Pure: no flask, sqlalchemy or app."""


# the longest one restriction may last, whatever the rules table's days × steps come to (a mediator's
# restriction is at most this long too: workflows/fields.py PENALTY_NUMBERS) — a year, and never a date
# past year 9999
MAX_RESTRICT_DAYS = 365


def restrict_days(points, rules):
    """The days of the restriction `points` in force bring: the rules' days per step, at most a year."""
    return min(rules["penalty_restrict_days"] * (points // rules["penalty_restrict_points"]), MAX_RESTRICT_DAYS)


def thresholds_crossed(before, after, rules):
    """What `after` points in force bring, coming from `before`: [("restrict", days)] for each multiple of
    `penalty_restrict_points` passed below the blacklist threshold (the longest one, days for the highest
    multiple, at most MAX_RESTRICT_DAYS), or [("blacklist", None)] once `penalty_blacklist_points` is reached."""
    step, black = rules["penalty_restrict_points"], rules["penalty_blacklist_points"]
    if after <= before:
        return []
    if before < black <= after:
        return [("blacklist", None)]
    if after >= black:
        return []  # already over: the blacklist was applied when it was crossed
    if step > 0 and after // step > before // step:
        return [("restrict", restrict_days(after, rules))]
    return []


def next_threshold(points, rules):
    """The next threshold `points` in force would reach: ("restrict", at points, days) below the blacklist,
    ("blacklist", at points, None), or None once the blacklist threshold is reached."""
    step, black = rules["penalty_restrict_points"], rules["penalty_blacklist_points"]
    if points >= black:
        return None
    if step > 0 and (points // step + 1) * step < black:
        at = (points // step + 1) * step
        return ("restrict", at, restrict_days(at, rules))
    return ("blacklist", black, None)


def restriction_scale(rules):
    """[(points, days)] of the restrictions below the blacklist: [(12, 7), (24, 14), (36, 21)] by default;
    it stops at the first step that reaches MAX_RESTRICT_DAYS (every further one lasts as long)."""
    step, black, scale = rules["penalty_restrict_points"], rules["penalty_blacklist_points"], []
    for points in range(step, black, step) if step > 0 else ():
        scale.append((points, restrict_days(points, rules)))
        if scale[-1][1] == MAX_RESTRICT_DAYS:
            break
    return scale


def standing(restricted_until, is_blacklisted, now):
    """'blacklisted' (closed), 'restricted' (until restricted_until, exclusive) or 'good'."""
    if is_blacklisted:
        return "blacklisted"
    if restricted_until is not None and restricted_until > now:
        return "restricted"
    return "good"
