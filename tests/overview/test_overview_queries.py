"""The mediator overview's figures on known histories, against values worked out by hand. All times are UTC;
the display zone is Asia/Shanghai (UTC+8): a local day starts at 16:00 UTC the day before."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.cases.services import perform_action
from app.deadlines.services import sweep
from app.extensions import db
from app.overview.queries import overview, trend

from ..factories import make_user
from .helpers import H, closed, complaint, decided, request

NOW = datetime(2026, 12, 1, 4, 0)        # 12:00 in Shanghai
SINCE = NOW - timedelta(days=30)         # the default window: 2026-11-01 04:00


@pytest.fixture
def mediators(ctx):
    """Three mediators, as a function giving each one fresh from the session (commits expire objects)."""
    names = [make_user("mediator", username=name).username for name in ("med-a", "med-b", "med-c")]
    return lambda i: db.session.execute(select(User).where(User.username == names[i])).scalar_one()


def rename(user, name):
    user.display_name = name
    db.session.commit()


def test_queue_phases_and_overdue_of_open_cases(ctx, mediators):
    flagged, *_ = complaint(NOW - timedelta(days=3))
    perform_action(flagged, "assign", actor=mediators(0), now=NOW - timedelta(days=3))
    assert sweep(now=NOW - timedelta(days=3) + H(24)).fired == 1          # m1 silent 24 h: flagged overdue
    request(NOW - H(1))                                                   # negotiation
    complaint(NOW - H(1))                                                 # queued, nobody took it
    complaint(NOW - H(1))                                                 # queued
    complaint(NOW - H(1), respond=False)                                  # complaint, awaiting the seller
    closed(NOW - H(2), 1)                                                 # closed after 1 h

    o = overview(NOW, 30)

    assert o.queue_size == 2
    assert o.by_phase == [("negotiation", 1), ("complaint", 1), ("mediation", 3), ("resolution", 0),
                          ("execution", 0)]
    assert (o.open_total, o.overdue_open) == (5, 1)
    assert (o.closed, o.median_to_close) == (1, 3600)
    assert o.breaches == [("mediation", "flag_overdue", 1)]
    assert [(m.open_cases, m.overdue_open, m.closed, m.median_decision) for m in o.mediators] == [
        (1, 1, 0, None), (0, 0, 0, None), (0, 0, 0, None)]
    assert o.mediators[0].id == mediators(0).id      # by display name, then id: med-a's account first


def test_median_time_to_close_an_even_count_and_the_window_edges(ctx):
    closed(SINCE - H(2), 2)                        # closed exactly at the window's start: counted, 2 h
    closed(NOW - H(10), 4)
    closed(NOW - H(20), 6)
    closed(NOW - H(30), 10)
    closed(SINCE - H(100) - timedelta(seconds=1), 100)   # closed one second before the window: left out
    request(NOW - H(3))                                  # still open: no time to close

    o = overview(NOW, 30)

    assert o.closed == 4
    assert o.median_to_close == 5 * 3600           # (4 h + 6 h) / 2
    assert overview(NOW, 1).median_to_close == 6 * 3600   # 1-day window: 4, 6, 10 h → 6 h


def test_median_time_to_decision_overall_and_per_mediator(ctx, mediators):
    for i, name in enumerate(("甲", "乙", "丙")):
        rename(mediators(i), name)
    decided(NOW - H(50), 1, mediators(0))
    decided(NOW - H(40), 3, mediators(0))
    decided(NOW - H(30), 5, mediators(1))
    decided(SINCE - H(10), 2, mediators(1))        # decided (and closed) 8 h before the window: left out
    cid, *_ = complaint(NOW - H(5))
    perform_action(cid, "assign", actor=mediators(1), now=NOW - H(4))   # open, assigned to 乙

    o = overview(NOW, 30)

    assert (o.decided, o.median_decision) == (3, 3 * 3600)   # 1, 3, 5 h
    assert (o.closed, o.median_to_close) == (3, 3 * 3600)
    by_name = {m.name: (m.open_cases, m.overdue_open, m.closed, m.median_decision) for m in o.mediators}
    assert by_name == {"甲": (0, 0, 2, 2 * 3600),         # (1 h + 3 h) / 2
                       "乙": (1, 0, 1, 5 * 3600),
                       "丙": (0, 0, 0, None)}
    assert o.queue_size == 0


def test_deadline_breaches_count_silence_in_the_window_only(ctx, mediators):
    request(SINCE - H(60))
    assert sweep(now=SINCE - H(5)).fired == 1      # seller silent 48 h: agreed by the system, before the window
    request(NOW - H(60))                           # seller silent 48 h → auto agree
    complaint(NOW - H(80), respond=False)          # seller silent 72 h → handed to the platform
    evidence, *_ = complaint(NOW - H(100))
    perform_action(evidence, "assign", actor=mediators(0), now=NOW - H(100))
    perform_action(evidence, "request_evidence", actor=mediators(0), data={"party": "seller"}, now=NOW - H(100))
    assert sweep(now=NOW - H(5)).fired == 3        # + the evidence period ending on time: not a breach

    o = overview(NOW, 30)

    assert o.breaches == [("negotiation", "agree", 1), ("complaint", "hand_over", 1)]
    assert o.breaches_total == 2


def test_trend_counts_opened_and_closed_per_local_day(ctx):
    request(datetime(2026, 11, 1, 15, 59, 59))      # 11-01 23:59:59 local: before the first day
    request(datetime(2026, 11, 1, 16, 0))           # 11-02 00:00 local: the first day
    request(datetime(2026, 11, 30, 15, 59, 59))     # 11-30 23:59:59 local
    closed(datetime(2026, 11, 30, 15, 0), 1)        # opened 11-30 23:00 local, closed 12-01 00:00 local
    request(datetime(2026, 11, 30, 16, 0))          # 12-01 00:00 local: today

    points = trend(NOW, 30)

    assert len(points) == 30
    assert (points[0][0], points[-1][0]) == ("2026-11-02", "2026-12-01")
    assert {d: (o, c) for d, o, c in points if o or c} == {
        "2026-11-02": (1, 0), "2026-11-30": (2, 0), "2026-12-01": (1, 1)}
    assert len(trend(NOW, 90)) == 90
