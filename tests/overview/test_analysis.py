"""Reason analysis on a known history: cases by reason code and complaint type per category, shop and week or
month, with the local calendar's edges (Asia/Shanghai, UTC+8: a local Monday starts Sunday 16:00 UTC)."""
from datetime import date, datetime

import pytest
from werkzeug.datastructures import MultiDict

from app.overview.queries import AnalysisFilter, analysis, analysis_filter

from ..factories import make_user
from .helpers import complaint, escalated, request

WEEKS = AnalysisFilter(date_from=date(2026, 11, 2), date_to=date(2026, 11, 15), group="week")


@pytest.fixture
def history(ctx):
    """Shop 1 (home) and shop 2 (toys), 2026-11-02 … 11-15 local, plus a case on each side of the period."""
    s1, s2 = make_user("seller"), make_user("seller")
    request(datetime(2026, 11, 8, 15, 59, 59), seller=s1)                      # Sun 11-08 local: week 11-02
    request(datetime(2026, 11, 8, 16, 0), seller=s1, reason="quality")         # Mon 11-09 local: week 11-09
    request(datetime(2026, 11, 10, 3, 0), seller=s1)                           # week 11-09
    escalated(datetime(2026, 11, 4, 3, 0), seller=s1)                          # reason quality + complaint quality
    complaint(datetime(2026, 11, 3, 3, 0), seller=s2, category="toys")         # complaint not_as_described
    request(datetime(2026, 11, 12, 3, 0), seller=s2, category="toys")          # week 11-09
    request(datetime(2026, 11, 1, 15, 59, 59), seller=s2, category="toys")     # 11-01 local: before the period
    request(datetime(2026, 11, 15, 16, 0), seller=s2, category="toys")         # 11-16 local: after it
    return s1.shop_id, s2.shop_id


def test_counts_by_reason_and_complaint_type_per_week_and_category(history):
    a = analysis(WEEKS)

    assert a.buckets == ["2026-11-02", "2026-11-09"]
    assert a.total == 6
    assert a.by_code["reason"] == [("not_received", 3, {"2026-11-02": 1, "2026-11-09": 2}),
                                   ("quality", 2, {"2026-11-02": 1, "2026-11-09": 1})]
    assert a.by_code["complaint_type"] == [("not_as_described", 1, {"2026-11-02": 1}),
                                           ("quality", 1, {"2026-11-02": 1})]
    assert a.by_category == {"reason": {"not_received": {"home": 2, "toys": 1}, "quality": {"home": 2}},
                             "complaint_type": {"not_as_described": {"toys": 1}, "quality": {"home": 1}}}
    assert a.categories == ["home", "toys"]


def test_shops_with_most_cases_and_their_most_frequent_reason(history):
    s1, s2 = history
    shops = [(sid, n, top) for sid, _name, n, top in analysis(WEEKS).shops]
    # shop 1: not_received 2, quality 2 (the escalated case counts under its request's reason) → the first code
    # shop 2: one complaint not_as_described, one request not_received → the complaint type sorts first
    assert shops == [(s1, 4, ("reason", "not_received")), (s2, 2, ("complaint_type", "not_as_described"))]


def test_filters_by_category_and_shop(history):
    s1, s2 = history
    toys = analysis(AnalysisFilter(date_from=WEEKS.date_from, date_to=WEEKS.date_to, category="toys"))
    assert toys.total == 2
    assert toys.by_code["reason"] == [("not_received", 1, {"2026-11-09": 1})]
    shop1 = analysis(AnalysisFilter(date_from=WEEKS.date_from, date_to=WEEKS.date_to, shop=s1))
    assert shop1.total == 4 and "not_as_described" not in dict((c, n) for c, n, _ in shop1.by_code["complaint_type"])
    assert analysis(AnalysisFilter(date_from=WEEKS.date_from, date_to=WEEKS.date_to, shop=s2,
                                   category="home")).total == 0


def test_months_start_at_local_midnight_of_the_first(ctx):
    request(datetime(2026, 10, 31, 15, 59, 59))     # 10-31 23:59:59 local
    request(datetime(2026, 10, 31, 16, 0))          # 11-01 00:00 local
    request(datetime(2026, 11, 30, 15, 59, 59))     # 11-30 23:59:59 local

    a = analysis(AnalysisFilter(date_from=date(2026, 10, 15), date_to=date(2026, 11, 30), group="month"))

    assert a.buckets == ["2026-10-01", "2026-11-01"]
    assert a.by_code["reason"] == [("not_received", 3, {"2026-10-01": 1, "2026-11-01": 2})]
    assert a.rows == [("reason", "not_received", "home", "2026-10-01", 1),
                      ("reason", "not_received", "home", "2026-11-01", 2)]


@pytest.mark.parametrize("args, problems", [
    ({"date_from": "2026-13-01"}, {"date_from": "not_a_date"}),
    ({"date_to": "yesterday"}, {"date_to": "not_a_date"}),
    ({"date_from": "2026-02-30"}, {"date_from": "not_a_date"}),
    ({"date_from": "2026-11-10", "date_to": "2026-11-01"}, {"date_from": "date_order"}),
    ({"date_from": "2024-12-01", "date_to": "2026-12-01"}, {"date_from": "range_too_long"}),  # 730 days
    ({"category": "cars"}, {"category": "not_a_choice"}),
    ({"shop": "abc", "group": "day"}, {"shop": "not_a_choice", "group": "not_a_choice"}),
    ({"shop": "99999999999999999999"}, {"shop": "not_a_choice"}),
])
def test_bad_filters_are_named_by_field(app, args, problems):
    with app.test_request_context():
        f, found = analysis_filter(MultiDict(args), date(2026, 12, 1))
    assert f is None
    assert {name: p.code for name, p in found.items()} == problems


def test_the_longest_period_is_two_years(app):
    with app.test_request_context():
        f, problems = analysis_filter(MultiDict({"date_from": "2024-12-02", "date_to": "2026-12-01"}), date(2026, 12, 1))
    assert problems == {} and (f.date_to - f.date_from).days == 729


def test_the_api_refuses_empty_values(app):
    with app.test_request_context():
        f, problems = analysis_filter(MultiDict({"category": ""}), date(2026, 12, 1), blank_is_none=False)
    assert f is None and problems["category"].code == "not_a_choice"


def test_empty_filters_mean_everything_in_the_last_twelve_weeks(app):
    with app.test_request_context():
        f, problems = analysis_filter(MultiDict({"category": "", "shop": "", "date_from": ""}), date(2026, 12, 1))
    assert problems == {}
    assert f == AnalysisFilter(date_from=date(2026, 9, 9), date_to=date(2026, 12, 1), group="week")  # 84 days
