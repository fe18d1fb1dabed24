"""PostgreSQL only: real concurrent transactions on cases.

- Twenty parties clicking conflicting actions on one case at the same moment: exactly one
  wins, everyone else gets a 409, and the audit chain grows by exactly one event.
- Two deadline sweepers over the same 2,000 overdue cases: every deadline fires exactly once.
- A seller paying a refund while two sweepers want the platform to advance it: the buyer is
  refunded once, and nobody gets an unexpected error."""
from datetime import timedelta

from sqlalchemy import func, insert, select

from app.cases.audit import check_anchor_log, check_case, verify_chain
from app.cases.models import Case, CaseEvent, CaseMessage
from app.cases.services import open_case, perform_action
from app.db_tx import transaction
from app.deadlines.services import sweep
from app.errors import ActionNotAvailable, Conflict
from app.execution.models import ExecutionTask
from app.extensions import db
from app.orders.queries import money_for
from app.payments.models import JournalEntry
from app.payments.services import transfer
from app.timeutil import utcnow

from ..api.helpers import token_for
from ..concurrency import race
from ..factories import make_order, make_user

# the seller's three answers to a request: each is possible only while the case is `requested`
ANSWERS = [("seller", "agree", {}), ("seller", "counter_offer", {"amount_fen": 3_000, "note": "部分退款"}),
           ("seller", "refuse", {"reason": "商品无质量问题"})]
# the buyer may withdraw in every open negotiation state: after one answer, not after a withdrawal
WITHDRAW = ("buyer", "withdraw", {})
OUTCOME = {"agree": ("negotiation", "awaiting_return"), "counter_offer": ("negotiation", "countered"),
           "refuse": ("negotiation", "refused"), "withdraw": ("closed", "withdrawn")}


def _requested_case():
    """A return request (agreeing to it waits for the goods, so no execution step follows)."""
    order, buyer, seller = make_order(state="shipped", price_fen=8_000)
    case = open_case(order.id, actor=buyer, kind="return_refund", reason="quality", amount_fen=8_000)
    assert (case.phase, case.state, case.event_count) == ("negotiation", "requested", 1)
    return case.id, {"buyer": buyer, "seller": seller}


def _assert_events(case_id, winners):
    """The winners, in the order they committed, are a sequence the rules allow: one answer, or a
    withdrawal, or an answer then a withdrawal; the audit chain has exactly one event for each."""
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    events = db.session.execute(select(CaseEvent.trigger).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.seq)).scalars().all()
    assert events[0] == "open" and sorted(events[1:]) == sorted(winners)
    assert events[1:] in ([w] for w in OUTCOME) or events[1:] in ([a, "withdraw"] for _, a, _ in ANSWERS), events
    assert (case.phase, case.state) == OUTCOME[events[-1]]
    assert verify_chain(case) == (True, len(events))
    assert db.session.execute(select(func.count()).select_from(CaseMessage)
                              .where(CaseMessage.case_id == case_id)).scalar_one() == len(events)


def _clicks(n, with_withdraw):
    actions = ANSWERS + [WITHDRAW] if with_withdraw else ANSWERS
    return [actions[i % len(actions)] for i in range(n)]


def test_twenty_seller_answers_at_once_exactly_one_wins(app, ctx):
    case_id, users = _requested_case()
    results = race(app, [lambda role=role, trigger=trigger, data=data: (
        perform_action(case_id, trigger, actor=users[role], data=data), trigger)[1]
        for role, trigger, data in _clicks(20, with_withdraw=False)])

    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1, results
    losers = [r for r in results if not isinstance(r, str)]
    assert len(losers) == 19 and all(isinstance(r, (ActionNotAvailable, Conflict)) for r in losers), losers
    assert {r.status for r in losers} == {409}
    _assert_events(case_id, winners)


def test_answers_and_withdrawals_at_once_serialise(app, ctx):
    """Seller answers and buyer withdrawals racing: at most one answer and one withdrawal win, in an
    order the rules allow; every other click is a 409 and changes nothing."""
    case_id, users = _requested_case()
    results = race(app, [lambda role=role, trigger=trigger, data=data: (
        perform_action(case_id, trigger, actor=users[role], data=data), trigger)[1]
        for role, trigger, data in _clicks(20, with_withdraw=True)])

    winners = [r for r in results if isinstance(r, str)]
    assert 1 <= len(winners) <= 2 and winners.count("withdraw") <= 1, results
    losers = [r for r in results if not isinstance(r, str)]
    assert all(isinstance(r, (ActionNotAvailable, Conflict)) and r.status == 409 for r in losers), losers
    _assert_events(case_id, winners)


def test_twenty_clicks_through_the_api_serialise(app, ctx):
    case_id, users = _requested_case()
    client = app.test_client()
    headers = {role: token_for(client, user) for role, user in users.items()}

    def click(role, trigger, data):
        def post():
            response = app.test_client().post(f"/api/v1/cases/{case_id}/actions/{trigger}", json=data,
                                              headers=headers[role])
            return trigger, response.status_code, response.get_json()
        return post
    results = race(app, [click(*action) for action in _clicks(20, with_withdraw=True)])

    assert not [r for r in results if isinstance(r, Exception)], results
    winners = [trigger for trigger, status, _ in results if status == 200]
    assert 1 <= len(winners) <= 2 and winners.count("withdraw") <= 1, [(t, s) for t, s, _ in results]
    assert len([t for t in winners if t != "withdraw"]) <= 1
    for trigger, status, body in results:
        if status == 200:
            assert body["id"] == case_id and (body["phase"], body["state"]) in OUTCOME.values()
        else:
            assert status == 409 and body["error"]["code"] in ("action_not_available", "conflict"), body
    _assert_events(case_id, winners)
    audit = client.get(f"/api/v1/cases/{case_id}/audit", headers=headers["buyer"]).get_json()
    assert audit == {"valid": True, "events": 1 + len(winners), "anchors": 1 + len(winners), "problems": []}


def test_two_sweepers_over_the_same_2000_overdue_cases_fire_each_deadline_once(app, ctx):
    buyer, seller = make_user("buyer"), make_user("seller")
    start = utcnow().replace(microsecond=0) - timedelta(days=10)
    rows = [dict(number=f"TJSWEEP-{i:06d}", kind="complaint", complaint_type="not_shipped", description="",
                 phase="complaint", state="awaiting_response", amount_fen=0, buyer_id=buyer.id,
                 shop_id=seller.shop_id, due_at=start + timedelta(minutes=i % 97), on_timeout="hand_over",
                 waiting_for="seller", audit_head="", event_count=0, created_at=start, updated_at=start, version=1)
            for i in range(2_000)]
    db.session.execute(insert(Case), rows)
    db.session.commit()
    now = utcnow()

    results = race(app, [lambda: sweep(now=now, batch_size=100)] * 2)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert [r.failed for r in results] == [0, 0], [r.errors[:3] for r in results]
    assert sum(r.fired for r in results) == 2_000
    fired = dict(db.session.execute(
        select(CaseEvent.case_id, func.count()).where(CaseEvent.actor_role == "system",
                                                      CaseEvent.trigger == "hand_over")
        .group_by(CaseEvent.case_id)).all())
    assert len(fired) == 2_000 and set(fired.values()) == {1}
    assert db.session.execute(select(func.count()).select_from(CaseEvent)).scalar_one() == 2_000
    states = db.session.execute(select(Case.phase, Case.state, Case.event_count, func.count())
                                .group_by(Case.phase, Case.state, Case.event_count)).all()
    assert states == [("mediation", "queued", 1, 2_000)]
    assert db.session.execute(select(func.count()).select_from(Case).where(Case.due_at <= now)).scalar_one() == 0
    for case in db.session.execute(select(Case).order_by(Case.id)).scalars():
        assert verify_chain(case) == (True, 1), case.number
        assert check_case(case).problems == (), case.number
    assert check_anchor_log()[0] == []  # the two sweepers' anchors chain one after the other
    # a third sweep at the same moment finds nothing left to fire
    assert sweep(now=now, batch_size=100).fired == 0


def test_seller_paying_while_sweepers_advance_refunds_the_buyer_once(app, ctx):
    """The money was released, so the seller owes the refund; the seller clicks 'pay' at the very
    moment two sweepers find the deadline passed and want the platform to advance it."""
    t = utcnow().replace(microsecond=0)
    with transaction():
        transfer("platform:capital", "platform:guarantee", 10**8, "fund-guarantee", kind="fund")
    order, buyer, seller = make_order(state="completed", price_fen=9_000, now=t)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=6_000, now=t)
    perform_action(case.id, "agree", actor=seller, now=t)
    task = db.session.execute(select(ExecutionTask).where(ExecutionTask.case_id == case.id)).scalar_one()
    assert (task.kind, task.state, task.on_timeout) == ("refund", "awaiting_seller", "advance")
    late = task.due_at + timedelta(minutes=1)
    events_before = db.session.get(Case, case.id).event_count

    def pay():
        return perform_action(case.id, "pay_refund", actor=seller, now=late).id
    results = race(app, [pay] * 5 + [lambda: sweep(now=late, batch_size=10)] * 2)

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, (ActionNotAvailable, Conflict))]
    assert unexpected == [], unexpected
    paid = [r for r in results[:5] if not isinstance(r, Exception)]
    assert len(paid) <= 1, results
    db.session.expire_all()
    task = db.session.get(ExecutionTask, task.id)
    assert task.state == "done" and task.paid_by == ("seller" if paid else "platform")
    money = money_for([order.id])[order.id]
    assert money["refunded_fen"] == 6_000, money
    refunds = db.session.execute(select(JournalEntry.kind, JournalEntry.amount_fen).where(
        JournalEntry.order_id == order.id, JournalEntry.kind.in_(("refund", "seller_refund", "advance")))).all()
    assert refunds == [("seller_refund" if paid else "advance", 6_000)]
    case = db.session.get(Case, case.id)
    assert (case.phase, case.state) == ("closed", "resolved")
    assert verify_chain(case) == (True, case.event_count)
    triggers = db.session.execute(select(CaseEvent.trigger).where(CaseEvent.case_id == case.id,
                                                                  CaseEvent.seq > events_before)).scalars().all()
    assert triggers.count("complete") == 1 and triggers.count("pay_refund") == len(paid), triggers
