"""workflows/penalties.py: what points in force bring, by the rules table's defaults (12 / 7 / 48)."""
from datetime import datetime, timedelta

import pytest

from workflows import Rules
from workflows.penalties import restriction_scale, standing, thresholds_crossed

RULES = Rules()


@pytest.mark.parametrize("before, after, expected", [
    (0, 11, []), (0, 12, [("restrict", 7)]), (6, 12, [("restrict", 7)]), (11, 13, [("restrict", 7)]),
    (12, 23, []),                                   # still the first step: nothing new
    (12, 24, [("restrict", 14)]), (10, 30, [("restrict", 14)]),  # two steps at once: the longer one
    (24, 36, [("restrict", 21)]), (36, 47, []),
    (40, 48, [("blacklist", None)]), (0, 48, [("blacklist", None)]), (47, 60, [("blacklist", None)]),
    (48, 60, []),                                   # already over: blacklisted when it was crossed
    (12, 12, []), (20, 10, []),
])
def test_thresholds_crossed(before, after, expected):
    assert thresholds_crossed(before, after, RULES) == expected


def test_the_restriction_scale_and_other_rules():
    assert restriction_scale(RULES) == [(12, 7), (24, 14), (36, 21)]
    rules = Rules({"penalty_restrict_points": 10, "penalty_restrict_days": 3, "penalty_blacklist_points": 30})
    assert restriction_scale(rules) == [(10, 3), (20, 6)]
    assert thresholds_crossed(19, 21, rules) == [("restrict", 6)]
    assert thresholds_crossed(29, 30, rules) == [("blacklist", None)]


def test_standing_ends_at_the_restrictions_time():
    end = datetime(2026, 12, 8, 12, 0, 0)
    assert standing(end, False, end - timedelta(seconds=1)) == "restricted"
    assert standing(end, False, end) == "good"
    assert standing(None, False, end) == "good"
    assert standing(end, True, end + timedelta(days=1)) == "blacklisted"
