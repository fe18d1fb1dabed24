"""Advances refused to flagged buyers (issue 13 point 2): a refund the seller owes after the money was released
is advanced by the platform when the seller stays silent (先行垫付) — unless the buyer carries the malicious-refund
flag; then the task fails with a reason the mediator and the admin see on the case page, and no money moves."""
from datetime import timedelta

import pytest

from app.cases.services import open_case, perform_action
from app.credit.services import set_flag
from app.db_tx import transaction
from app.deadlines.services import sweep
from app.execution.services import tasks_of
from app.extensions import db
from app.payments.services import balance, buyer_funding_code, transfer
from app.timeutil import utcnow

from ..factories import PASSWORD, make_order, make_user
from ..readers import assert_money_ok, case_of

NOT_ELIGIBLE = "the buyer is not eligible for a platform advance"


@pytest.fixture
def t0():
    return utcnow().replace(microsecond=0)


def _owed_refund(t0, flagged):
    """A refund of ¥50 agreed on a completed order (escrow released): the seller owes it for 48 h."""
    order, buyer, seller = make_order(state="completed", price_fen=10_000, now=t0)
    if flagged:
        set_flag(buyer.id, actor=make_user("admin"), flagged=True, reason="多次恶意退款", now=t0)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=5_000, now=t0).id
    perform_action(cid, "agree", actor=seller, now=t0)
    with transaction():
        transfer("platform:capital", "platform:guarantee", 100_000, "test:fund", kind="fund")
    db.session.expire_all()
    (task,) = tasks_of(cid)
    assert (task.kind, task.state, task.on_timeout) == ("refund", "awaiting_seller", "advance")
    return cid, buyer.id, task


def assert_verify_clean(runner):
    """`flask payments verify` finds every invariant of the money intact."""
    db.session.rollback()
    result = runner.invoke(args=["payments", "verify"])
    assert result.exit_code == 0, result.output
    assert "VIOLATION" not in result.output


def test_an_unflagged_buyer_gets_the_platform_advance(ctx, runner, t0):
    cid, buyer_id, task = _owed_refund(t0, flagged=False)
    result = sweep(now=task.due_at)
    assert (result.tasks_run, result.failed) == (1, 0)
    db.session.expire_all()
    refund = next(t for t in tasks_of(cid) if t.kind == "refund")
    assert (refund.state, refund.paid_by, refund.last_error) == ("done", "platform", None)
    assert balance(buyer_funding_code(buyer_id)) == -10_000 + 5_000
    assert case_of(cid).state == "resolved"
    assert_money_ok()
    assert_verify_clean(runner)


def test_a_flagged_buyer_gets_no_advance_and_the_mediator_sees_why(ctx, app, runner, t0):
    cid, buyer_id, task = _owed_refund(t0, flagged=True)
    sweep(now=task.due_at)
    db.session.expire_all()
    (refund,) = tasks_of(cid)  # no recovery task: nothing was advanced
    assert (refund.state, refund.paid_by, refund.last_error, refund.attempts) == ("failed", None, NOT_ELIGIBLE, 1)
    assert balance(buyer_funding_code(buyer_id)) == -10_000
    assert balance("platform:guarantee") == 100_000
    case = case_of(cid)
    assert (case.phase, case.state) == ("execution", "executing")
    assert_money_ok()
    assert_verify_clean(runner)
    admin = make_user("admin")
    client = app.test_client()
    client.post("/login", data={"username": admin.username, "password": PASSWORD})
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "买家不符合平台先行垫付的条件" in page and NOT_ELIGIBLE not in page  # translated, as on /admin/tasks
    assert "恶意退款标记" in page  # the credit panel beside the case says the buyer is flagged


def test_once_an_admin_clears_the_flag_the_retried_task_advances_the_refund(ctx, runner, t0):
    cid, buyer_id, task = _owed_refund(t0, flagged=True)
    due = task.due_at
    sweep(now=due)
    set_flag(buyer_id, actor=make_user("admin"), flagged=False, reason="申诉成立", now=due)
    db.session.expire_all()
    (refund,) = tasks_of(cid)
    retry_at = refund.due_at  # the failed step is tried again after the retry delay: the seller gets 48 h again
    sweep(now=retry_at)
    db.session.expire_all()
    (refund,) = tasks_of(cid)
    assert (refund.state, refund.due_at) == ("awaiting_seller", retry_at + timedelta(hours=48))
    sweep(now=refund.due_at)
    db.session.expire_all()
    refund = next(t for t in tasks_of(cid) if t.kind == "refund")
    assert (refund.state, refund.paid_by) == ("done", "platform")
    assert balance(buyer_funding_code(buyer_id)) == -10_000 + 5_000
    assert case_of(cid).state == "resolved"
    assert_verify_clean(runner)
