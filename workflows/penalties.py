"""Penalty points (扣分) and what they bring: the shop's standing and the thresholds it crosses.

Taobao's rules for serious violations (严重违规): every 12 points in force restrict the shop for
7 days per 12 (12 → 7 days, 24 → 14, 36 → 21: 限制发布商品 / 店铺屏蔽), and 48 points close it
(查封账户). Points stop counting after `penalty_points_expire_days` (Taobao zeroes them each year).
Pure: no flask, sqlalchemy or app."""


def thresholds_crossed(before, after, rules):
    """What `after` points in force bring, coming from `before`: [("restrict", days)] for each multiple of
    `penalty_restrict_points` passed below the blacklist threshold (the longest one, days for the highest
    multiple), or [("blacklist", None)] once `penalty_blacklist_points` is reached."""
    step, black = rules["penalty_restrict_points"], rules["penalty_blacklist_points"]
    if after <= before:
        return []
    if before < black <= after:
        return [("blacklist", None)]
    if after >= black:
        return []  # already over: the blacklist was applied when it was crossed
    if step > 0 and after // step > before // step:
        return [("restrict", rules["penalty_restrict_days"] * (after // step))]
    return []


def restriction_scale(rules):
    """[(points, days)] of the restrictions below the blacklist: [(12, 7), (24, 14), (36, 21)] by default."""
    step, black = rules["penalty_restrict_points"], rules["penalty_blacklist_points"]
    return [(p, rules["penalty_restrict_days"] * (p // step)) for p in range(step, black, step)] if step > 0 else []


def standing(restricted_until, is_blacklisted, now):
    """'blacklisted' (closed), 'restricted' (until restricted_until, exclusive) or 'good'."""
    if is_blacklisted:
        return "blacklisted"
    if restricted_until is not None and restricted_until > now:
        return "restricted"
    return "good"
