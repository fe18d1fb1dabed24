"""Finding 8: the audit chain is anchored in an append-only log (audit_anchors) and checked together with
the case row and the case's ledger entries — by `flask audit verify`, the API's audit answer and the case
page. Each tampering below is one an attacker with write access to the tables could do."""
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from app.auth.models import User
from app.cases.audit import event_hash
from app.cases.models import Case, CaseEvent, CaseMessage
from app.cases.services import open_case
from app.db_tx import transaction
from app.extensions import db
from app.payments.models import JournalEntry
from app.payments.services import buyer_funding_code, escrow_code, transfer

from ..api.helpers import token_for
from ..factories import anchor_triggers_off, make_order
from ..readers import case_of
from .test_case_services import _full_story, events, t0  # noqa: F401 - t0 is a fixture

ANCHORS = "audit_anchors"


def audit(client, cid):
    """The API's audit answer, as the case's mediator sees it."""
    mediator = db.session.get(User, case_of(cid).mediator_id)
    response = client.get(f"/api/v1/cases/{cid}/audit", headers=token_for(client, mediator))
    assert response.status_code == 200
    return response.get_json()


def anchor_count():
    return db.session.execute(select(func.count()).select_from(db.metadata.tables[ANCHORS])).scalar_one()


def set_case(cid, **values):
    with transaction():
        db.session.execute(update(Case.__table__).where(Case.__table__.c.id == cid).values(**values))
    db.session.expire_all()


def _rehash(cid, amount_fen):
    """Rewrite the proposed amount and rehash the case's chain from the start; returns the new head."""
    with transaction():
        prev = ""
        for event in events(cid):
            if event.trigger == "propose":
                event.payload = {**event.payload, "amount_fen": amount_fen}
            event.prev_hash, event.hash = prev, event_hash(prev, event)
            prev = event.hash
    set_case(cid, audit_head=prev)
    return prev


def test_an_untouched_story_verifies_with_one_anchor_per_event(client, ctx, t0, runner):
    _, cid = _full_story(t0)
    assert audit(client, cid) == {"valid": True, "events": 12, "anchors": 12, "problems": []}
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 1 cases, 12 events, 12 anchors; anchor log head ")


def test_recomputing_the_whole_chain_from_the_start_is_detected(client, ctx, t0, runner):
    _, cid = _full_story(t0)
    _rehash(cid, 20_000)
    answer = audit(client, cid)
    assert answer["valid"] is False
    assert any("anchor" in p for p in answer["problems"]), answer
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert case_of(cid).number in result.output and "anchor" in result.output


def test_truncating_the_chain_and_moving_the_head_back_is_detected(client, ctx, t0, runner):
    _, cid = _full_story(t0)
    trail = events(cid)
    kept = trail[-3]
    with transaction():
        for event in trail[-2:]:
            db.session.execute(CaseMessage.__table__.delete().where(CaseMessage.__table__.c.event_id == event.id))
            db.session.execute(CaseEvent.__table__.delete().where(CaseEvent.__table__.c.id == event.id))
    set_case(cid, audit_head=kept.hash, event_count=kept.seq, phase=kept.to_phase, state=kept.to_state,
             due_at=t0, waiting_for="buyer")
    answer = audit(client, cid)
    assert (answer["valid"], answer["events"]) == (False, 10)
    assert any("anchor" in p for p in answer["problems"]), answer
    assert runner.invoke(args=["audit", "verify", "--case", str(cid)]).exit_code == 1


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_anchor_log_refuses_updates_and_deletes(ctx, t0, change):
    _, cid = _full_story(t0)
    table = db.metadata.tables[ANCHORS]
    before = db.session.execute(select(table).order_by(table.c.id)).all()
    assert len(before) == 12
    statement = (update(table).values(head_hash="0" * 64) if change == "update"
                 else table.delete().where(table.c.seq > 10))
    with pytest.raises(DBAPIError) as refused:
        with transaction():
            db.session.execute(statement)
    assert "append-only" in str(refused.value)
    assert db.session.execute(select(table).order_by(table.c.id)).all() == before


def test_a_case_row_edited_behind_the_chain_is_detected(client, ctx, t0, runner):
    _, cid = _full_story(t0)
    set_case(cid, state="rejected")
    answer = audit(client, cid)
    assert answer["valid"] is False and answer["events"] == 12
    assert any("rejected" in p for p in answer["problems"]), answer
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_a_ledger_entry_of_the_case_without_an_event_is_detected(client, ctx, t0, runner):
    order, cid = _full_story(t0)
    case = case_of(cid)
    with transaction():  # money out of escrow booked against the case, with no step of the case behind it
        transfer(escrow_code(order.id), buyer_funding_code(case.buyer_id), 1_000, "forged:1", kind="refund",
                 order_id=order.id, case_id=cid)
    answer = audit(client, cid)
    assert answer["valid"] is False
    assert answer["problems"] == ["the case's ledger entries differ from those event 12 recorded (2 now, 1 recorded)"]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "ledger entries differ" in result.output


def test_a_ledger_amount_changed_after_the_fact_is_detected(client, ctx, t0):
    _, cid = _full_story(t0)
    refund = db.session.execute(select(JournalEntry).where(JournalEntry.case_id == cid)).scalar_one()
    assert refund.amount_fen == 8_000
    with transaction():
        db.session.execute(update(JournalEntry.__table__).where(JournalEntry.__table__.c.id == refund.id)
                           .values(amount_fen=9_000))
    answer = audit(client, cid)
    assert answer["valid"] is False
    assert answer["problems"] == ["the case's ledger entries differ from those event 12 recorded (1 now, 1 recorded)"]


def test_a_refund_line_moved_to_another_account_is_detected(client, ctx, t0, runner):
    """Found by the attack on issue 11: the digest covered the entries (key, kind, amount) but not their
    lines, so a refund redirected to another buyer's account left both `audit verify` and `payments
    verify` reading ok (the books still balance)."""
    from app.payments.models import Account, JournalLine
    order, cid = _full_story(t0)
    other = make_order(state="delivered", now=t0)[1]
    with transaction():  # an account of another buyer, made the ordinary way
        transfer(buyer_funding_code(other.id), escrow_code(order.id), 1, "other:1", kind="payment",
                 order_id=order.id)
        transfer(escrow_code(order.id), buyer_funding_code(other.id), 1, "other:2", kind="payment",
                 order_id=order.id)
    theirs = db.session.execute(select(Account.id).where(Account.code == buyer_funding_code(other.id))).scalar_one()
    ours = db.session.execute(select(Account.id).where(Account.code == buyer_funding_code(case_of(cid).buyer_id))
                              ).scalar_one()
    refund = db.session.execute(select(JournalEntry).where(JournalEntry.case_id == cid)).scalar_one()
    with transaction():
        db.session.execute(update(JournalLine.__table__).where(
            JournalLine.__table__.c.entry_id == refund.id, JournalLine.__table__.c.account_id == ours)
            .values(account_id=theirs))
    db.session.expire_all()
    answer = audit(client, cid)
    assert answer["valid"] is False
    assert answer["problems"] == ["the lines of the case's ledger entries differ from those event 12 recorded"]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_the_case_page_shows_the_check_to_the_mediator(client, ctx, t0, login_as):
    _, cid = _full_story(t0)
    login_as(db.session.get(User, case_of(cid).mediator_id))
    html = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "审计链已校验" in html and "12 条记录" in html and "审计链校验失败" not in html
    set_case(cid, audit_head="f" * 64)
    html = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "审计链校验失败" in html and "审计链已校验" not in html


def test_money_booked_on_a_case_that_never_completed_is_detected(client, ctx, t0):
    order, buyer, _ = make_order(state="delivered", price_fen=20_000, now=t0)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="not_as_described", amount_fen=5_000,
                    now=t0).id
    with transaction():
        transfer(escrow_code(order.id), buyer_funding_code(buyer.id), 5_000, "forged:2", kind="refund",
                 order_id=order.id, case_id=cid)
    answer = client.get(f"/api/v1/cases/{cid}/audit", headers=token_for(client, buyer)).get_json()
    assert answer == {"valid": False, "events": 1, "anchors": 1,
                      "problems": ["1 ledger entries of the case but no event recorded them"]}


def test_events_show_the_parties_no_ledger_codes(client, ctx, t0):
    _, cid = _full_story(t0)
    complete = events(cid)[-1]
    assert complete.trigger == "complete" and set(complete.payload["ledger"]) == {"entries", "sha256", "lines_sha256"}
    assert complete.payload["ledger"]["entries"] == 1


def test_anchors_rewritten_with_the_triggers_set_aside_break_the_anchor_log(client, ctx, t0, runner):
    """The schema's owner can set the triggers aside and rewrite a case's anchors to match a rehashed chain:
    the case then reads as valid, but the anchor log's own chain (across cases) does not."""
    _, first = _full_story(t0)
    _full_story(t0)  # a later case: its anchors come after the first one's
    _rehash(first, 20_000)
    table = db.metadata.tables[ANCHORS]
    with transaction():
        conn = db.session.connection()
        with anchor_triggers_off(conn):
            for event in events(first):
                conn.execute(update(table).where(table.c.case_id == first, table.c.seq == event.seq)
                             .values(head_hash=event.hash))
    assert audit(client, first)["valid"] is True  # the case alone cannot tell
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "FAIL anchor log: anchor" in result.output and "does not link to the anchor before it" in result.output
