"""Buyer credit (issue 13 point 2): figures over known histories (hand-computed, with the window's edges), the
malicious-refund flag set by a binding malicious finding or by the dismissals threshold, cleared and set by an
admin with a reason, audit records, and advances refused to a flagged buyer."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.admin_audit import AdminEvent, verify
from app.auth.models import User
from app.cases.models import CaseRating
from app.cases.services import perform_action
from app.credit.queries import credit_for
from app.credit.services import set_flag
from app.db_tx import transaction
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.rules import get_rules
from app.timeutil import utcnow

from ..factories import make_user
from ..readers import case_of, fresh
from .history import (accept_both, complaint, dismissed_complaint, escalate, propose, request, rule,
                      to_review)

DAY, SECOND = timedelta(days=1), timedelta(seconds=1)


@pytest.fixture
def T():
    """The moment the credit is read; histories are built before it."""
    return utcnow().replace(microsecond=0)


def buyer_of(buyer_id):
    return fresh(User, buyer_id)


def flag_events(buyer_id):
    return db.session.execute(select(AdminEvent).where(AdminEvent.target_type == "user",
                                                       AdminEvent.target_id == str(buyer_id))
                              .order_by(AdminEvent.id)).scalars().all()


def rate(case_id, buyer, at, score=4):
    """An after-sales rating row (the rating service is another part of issue 13)."""
    case = case_of(case_id)
    with transaction():
        db.session.add(CaseRating(case_id=case_id, buyer_id=buyer.id, shop_id=case.shop_id, score=score,
                                  comment="", created_at=at))


# ---------------------------------------------------------------- figures

def test_credit_figures_over_all_time_and_the_90_day_window(ctx, T):
    buyer, mediator, admin = make_user("buyer"), make_user("mediator"), make_user("admin")
    since = T - 90 * DAY
    # A: a request filed 100 days ago, withdrawn 95 days ago — both before the window
    a, _ = request(buyer, T - 100 * DAY)
    perform_action(a, "withdraw", actor=buyer, now=T - 95 * DAY)
    # B: a complaint filed 95 days ago, dismissed by a proposal that bound one second before the window
    b = dismissed_complaint(buyer, mediator, T - 95 * DAY, bound_at=since - SECOND)
    # C: a request of ¥100 filed exactly at the window's start, escalated; the mediator rules ¥40 (less than
    # asked) and finds the buyer malicious, 10 days ago
    c, seller_c = request(buyer, since, amount_fen=10_000)
    escalate(c, buyer, seller_c, since)
    to_review(c, seller_c, mediator, since)
    propose(c, mediator, since, "partial_refund", 4_000)
    rule(c, seller_c, mediator, T - 10 * DAY, "partial_refund", 4_000, malicious=True)
    # D: a request filed one second before the window, withdrawn yesterday (inside)
    d, _ = request(buyer, since - SECOND)
    perform_action(d, "withdraw", actor=buyer, now=T - DAY)
    # E: a complaint 5 days ago, granted in full: not against the buyer
    e, seller_e = complaint(buyer, T - 5 * DAY)
    to_review(e, seller_e, mediator, T - 5 * DAY)
    propose(e, mediator, T - 5 * DAY, "full_refund")
    accept_both(e, buyer, seller_e, T - 4 * DAY)
    # ratings: one 91 days ago, one 2 days ago
    rate(a, buyer, T - 91 * DAY)
    rate(e, buyer, T - 2 * DAY)
    # another buyer's case counts nothing here
    request(make_user("buyer"), T - DAY)

    assert [case_of(i).state for i in (a, b, d, e)] == ["withdrawn", "dismissed", "withdrawn", "resolved"]
    credit = credit_for(admin, buyer.id, now=T, rules=get_rules())
    assert credit.window_days == 90
    assert credit.all_time == {"requests": 3, "complaints": 2, "withdrawn": 2, "rulings_against": 2,
                               "dismissed": 1, "malicious": 1, "ratings": 2}
    assert credit.recent == {"requests": 1, "complaints": 1, "withdrawn": 1, "rulings_against": 1,
                             "dismissed": 0, "malicious": 1, "ratings": 1}
    assert credit.flagged is True  # C's ruling found the buyer malicious
    # one second later C's filing leaves the window; nothing else moves
    later = credit_for(admin, buyer.id, now=T + SECOND, rules=get_rules())
    assert later.recent == credit.recent | {"requests": 0}


def test_credit_is_for_mediators_who_see_a_case_of_the_buyer_and_admins(ctx, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    cid, seller = complaint(buyer, T)
    rules = get_rules()
    with pytest.raises(NotFound):  # in the complaint phase no mediator sees the case yet
        credit_for(mediator, buyer.id, now=T, rules=rules)
    to_review(cid, seller, mediator, T)
    assert credit_for(mediator, buyer.id, now=T, rules=rules).all_time["complaints"] == 1
    for user in (make_user("mediator"), buyer, seller, make_user("buyer")):
        with pytest.raises(NotFound):
            credit_for(user, buyer.id, now=T, rules=rules)
    admin = make_user("admin")
    for not_a_buyer in (seller.id, admin.id, 987_654, "1"):
        with pytest.raises(NotFound):
            credit_for(admin, not_a_buyer, now=T, rules=rules)


# ---------------------------------------------------------------- the flag by a mediator's finding

def test_a_malicious_finding_flags_the_buyer_once_both_parties_accept_the_proposal(ctx, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    propose(cid, mediator, T, "dismiss", malicious=True)
    assert case_of(cid).buyer_malicious is True
    assert buyer_of(buyer.id).is_malicious_refund is False  # a proposal binds nobody yet
    perform_action(cid, "accept_proposal", actor=buyer, now=T + SECOND)
    assert buyer_of(buyer.id).is_malicious_refund is False
    perform_action(cid, "accept_proposal", actor=seller, now=T + 2 * SECOND)
    assert (case_of(cid).state, buyer_of(buyer.id).is_malicious_refund) == ("dismissed", True)
    (event,) = flag_events(buyer.id)
    assert (event.action, event.actor_id, event.created_at) == ("buyer.flag", mediator.id, T + 2 * SECOND)
    number = case_of(cid).number
    assert event.reason == f"{number}: the mediator found the buyer at fault / malicious"
    assert event.detail == {"source": "ruling", "case_id": cid, "case_number": number, "before": False,
                            "after": True}
    assert verify() == []


def test_a_final_ruling_decides_the_finding_not_the_rejected_proposal(ctx, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    # proposed malicious, rejected, ruled without the finding: no flag, the case is not malicious
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    propose(cid, mediator, T, "dismiss", malicious=True)
    rule(cid, seller, mediator, T + SECOND, "partial_refund", 3_000, malicious=False)
    assert (case_of(cid).buyer_malicious, buyer_of(buyer.id).is_malicious_refund) == (False, False)
    assert flag_events(buyer.id) == []
    # proposed without, rejected, ruled malicious: flagged at the ruling
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    propose(cid, mediator, T, "partial_refund", 3_000)
    rule(cid, seller, mediator, T + 2 * SECOND, "dismiss", malicious=True)
    assert (case_of(cid).buyer_malicious, buyer_of(buyer.id).is_malicious_refund) == (True, True)
    assert [(e.action, e.actor_id, e.detail["source"]) for e in flag_events(buyer.id)] == [
        ("buyer.flag", mediator.id, "ruling")]


def test_a_claim_granted_in_full_cannot_be_found_malicious_and_the_finding_is_true_or_false(ctx, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    version = case_of(cid).version
    with pytest.raises(Invalid) as err:
        propose(cid, mediator, T, "full_refund", malicious=True)
    assert err.value.details["buyer_malicious"].code == "malicious_full_refund"
    with pytest.raises(Invalid) as err:
        propose(cid, mediator, T, "dismiss", malicious="yes")
    assert err.value.details["buyer_malicious"].code == "not_bool"
    case = case_of(cid)
    assert (case.state, case.version, case.buyer_malicious) == ("under_review", version, False)


# ---------------------------------------------------------------- the flag by the dismissals threshold

def test_the_third_dismissal_within_the_window_flags_the_buyer_as_the_system(ctx, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    assert (get_rules()["credit_flag_dismissed"], get_rules()["credit_window_days"]) == (3, 90)
    dismissed_complaint(buyer, mediator, T - 100 * DAY - SECOND)
    dismissed_complaint(buyer, mediator, T - 90 * DAY)
    dismissed_complaint(buyer, mediator, T - 10 * DAY)
    # at T - 10 days the window starts at T - 100 days: the first is one second outside it
    assert buyer_of(buyer.id).is_malicious_refund is False
    assert flag_events(buyer.id) == []
    # a granted claim and a reduced one are no dismissals
    cid, seller = complaint(buyer, T - DAY)
    to_review(cid, seller, mediator, T - DAY)
    propose(cid, mediator, T - DAY, "partial_refund", 1_000)
    accept_both(cid, buyer, seller, T - DAY)
    assert buyer_of(buyer.id).is_malicious_refund is False
    # at T the window starts at T - 90 days: the second is exactly on its edge, inside
    third = dismissed_complaint(buyer, mediator, T)
    assert buyer_of(buyer.id).is_malicious_refund is True
    (event,) = flag_events(buyer.id)
    assert (event.action, event.actor_id, event.created_at) == ("buyer.flag", None, T)
    assert event.reason == "3 claims dismissed within 90 days (threshold 3)"
    assert event.detail == {"source": "threshold", "dismissed": 3, "window_days": 90, "case_id": third,
                            "case_number": case_of(third).number, "before": False, "after": True}
    assert verify() == []


def test_after_an_admin_clears_the_flag_only_new_dismissals_count(ctx, T):
    buyer, mediator, admin = make_user("buyer"), make_user("mediator"), make_user("admin")
    for n in (30, 20, 10):
        dismissed_complaint(buyer, mediator, T - n * DAY)
    assert buyer_of(buyer.id).is_malicious_refund is True
    set_flag(buyer.id, actor=admin, flagged=False, reason="电话核实，买家确有质量问题", now=T - 9 * DAY)
    assert buyer_of(buyer.id).is_malicious_refund is False
    # two more dismissals: five in the window, but only two since the clearing
    dismissed_complaint(buyer, mediator, T - 5 * DAY)
    dismissed_complaint(buyer, mediator, T - 4 * DAY)
    assert buyer_of(buyer.id).is_malicious_refund is False
    # the third after the clearing flags again
    dismissed_complaint(buyer, mediator, T - 3 * DAY)
    assert buyer_of(buyer.id).is_malicious_refund is True
    assert [(e.action, e.actor_id, e.created_at) for e in flag_events(buyer.id)] == [
        ("buyer.flag", None, T - 10 * DAY), ("buyer.unflag", admin.id, T - 9 * DAY), ("buyer.flag", None, T - 3 * DAY)]
    assert verify() == []


def test_a_new_malicious_finding_after_the_clearing_flags_at_once(ctx, T):
    buyer, mediator, admin = make_user("buyer"), make_user("mediator"), make_user("admin")
    cid, seller = complaint(buyer, T - 10 * DAY)
    to_review(cid, seller, mediator, T - 10 * DAY)
    propose(cid, mediator, T - 10 * DAY, "dismiss", malicious=True)
    accept_both(cid, buyer, seller, T - 10 * DAY)
    set_flag(buyer.id, actor=admin, flagged=False, reason="申诉成功", now=T - 9 * DAY)
    cid, seller = complaint(buyer, T - DAY)
    to_review(cid, seller, mediator, T - DAY)
    propose(cid, mediator, T - DAY, "partial_refund", 2_000, malicious=True)
    accept_both(cid, buyer, seller, T)
    assert buyer_of(buyer.id).is_malicious_refund is True
    assert [(e.action, e.detail["source"]) for e in flag_events(buyer.id)] == [
        ("buyer.flag", "ruling"), ("buyer.unflag", "admin"), ("buyer.flag", "ruling")]


# ---------------------------------------------------------------- the admin's flag

def test_an_admin_flags_and_clears_a_buyer_with_a_reason(ctx, T):
    buyer, admin = make_user("buyer"), make_user("admin")
    for reason in ("", "   ", None):
        with pytest.raises(Invalid) as err:
            set_flag(buyer.id, actor=admin, flagged=True, reason=reason, now=T)
        assert err.value.details["reason"].code == "required"
    with pytest.raises(Invalid):
        set_flag(buyer.id, actor=admin, flagged=True, reason="x" * 1001, now=T)
    for actor in (make_user("mediator"), buyer, make_user("seller"), None):
        with pytest.raises(Forbidden):
            set_flag(buyer.id, actor=actor, flagged=True, reason="恶意", now=T)
    for target in (admin.id, make_user("seller").id, 987_654, 2**40, "1"):
        with pytest.raises(NotFound):
            set_flag(target, actor=admin, flagged=True, reason="恶意", now=T)
    with pytest.raises(Conflict):
        set_flag(buyer.id, actor=admin, flagged=False, reason="本来就没有", now=T)
    assert (buyer_of(buyer.id).is_malicious_refund, flag_events(buyer.id)) == (False, [])

    set_flag(buyer.id, actor=admin, flagged=True, reason=" 多次恶意退款投诉 ", now=T)
    assert buyer_of(buyer.id).is_malicious_refund is True
    with pytest.raises(Conflict):
        set_flag(buyer.id, actor=admin, flagged=True, reason="再次", now=T)
    set_flag(buyer.id, actor=admin, flagged=False, reason="核实后解除", now=T + SECOND)
    assert buyer_of(buyer.id).is_malicious_refund is False
    assert [(e.action, e.actor_id, e.reason, e.detail) for e in flag_events(buyer.id)] == [
        ("buyer.flag", admin.id, "多次恶意退款投诉", {"source": "admin", "before": False, "after": True}),
        ("buyer.unflag", admin.id, "核实后解除", {"source": "admin", "before": True, "after": False})]
    history = credit_for(admin, buyer.id, now=T, rules=get_rules()).history
    assert [e.action for e in history] == ["buyer.unflag", "buyer.flag"]  # newest first
    assert verify() == []


def test_a_malicious_finding_accepted_by_silence_flags_the_buyer_in_the_sweep(ctx, T):
    from app.deadlines.services import sweep
    buyer, mediator = make_user("buyer"), make_user("mediator")
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    propose(cid, mediator, T, "partial_refund", 2_000, malicious=True)
    buyer_id, mediator_id = buyer.id, mediator.id  # the sweep ends the session
    due = case_of(cid).due_at
    assert due == T + 3 * DAY  # confirmation_hours
    sweep(now=due - SECOND)
    assert buyer_of(buyer_id).is_malicious_refund is False
    sweep(now=due)
    assert case_of(cid).phase == "closed"
    assert buyer_of(buyer_id).is_malicious_refund is True
    (event,) = flag_events(buyer_id)
    assert (event.actor_id, event.created_at, event.detail["source"]) == (mediator_id, due, "ruling")
