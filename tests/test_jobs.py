"""Work queued after a commit (app/jobs.py, app/db_tx.py): a committed action answers 200 even
when the job it queued cannot be sent (the Celery broker is down or hangs); the job's row is
due at once, so the sweeper carries the work out — exactly once."""
import logging
import socket
import time

import pytest
from sqlalchemy import func, select

from app.db_tx import after_commit, transaction
from app.deadlines.services import sweep
from app.execution.models import ExecutionTask
from app.execution.services import run_task
from app.extensions import db
from app.payments.models import JournalEntry
from app.timeutil import utcnow
from app.worker import celery_app

from .api.helpers import token_for
from .factories import make_order
from .readers import case_of, money

CLOSED_PORT = "redis://127.0.0.1:9/13"  # nothing listens on the discard port: connection refused


def _broker(app, monkeypatch, url):
    """The app sends its jobs to `url`, through connection pools of the test's own."""
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", url)
    monkeypatch.setattr(celery_app.conf, "broker_url", url)
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)


@pytest.fixture
def broker_down(app, monkeypatch):
    _broker(app, monkeypatch, CLOSED_PORT)


@pytest.fixture
def silent_broker(app, monkeypatch):
    """A broker that accepts connections and never answers (a hung Redis)."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:
        _broker(app, monkeypatch, f"redis://127.0.0.1:{server.getsockname()[1]}/13")
        yield


def refund_entries(order_id):
    return db.session.execute(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.order_id == order_id, JournalEntry.kind == "refund")).scalar_one()


def agree_to_refund(client, price_fen=6_600):
    """A refund request on an unshipped order, agreed by the seller through the API."""
    order, buyer, seller = make_order(state="paid", price_fen=price_fen)
    case = client.post(f"/api/v1/orders/{order.id}/cases", headers=token_for(client, buyer), json={
        "kind": "refund_only", "reason": "not_received", "amount_fen": price_fen}).get_json()
    started = time.monotonic()
    response = client.post(f"/api/v1/cases/{case['id']}/actions/agree", headers=token_for(client, seller), json={})
    return response, time.monotonic() - started, order.id, case["id"]


def test_agree_answers_200_with_the_broker_down_and_the_sweeper_refunds_once(client, ctx, broker_down):
    response, _, order_id, case_id = agree_to_refund(client)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.get_json()["phase"], response.get_json()["state"]) == ("execution", "executing")
    (task,) = db.session.execute(select(ExecutionTask).where(ExecutionTask.case_id == case_id)).scalars().all()
    task_id = task.id
    assert (task.state, refund_entries(order_id)) == ("pending", 0)
    assert task.due_at <= utcnow()  # the job is recorded as the task's own deadline: due at once

    assert sweep().tasks_run == 1
    assert sweep().tasks_run == 0
    run_task(task_id)  # the job delivered late, once the broker is back
    assert refund_entries(order_id) == 1
    assert money(order_id)["refunded_fen"] == 6_600
    assert (case_of(case_id).phase, case_of(case_id).state) == ("closed", "resolved")


def test_a_hung_broker_does_not_hold_the_request(client, ctx, silent_broker):
    response, seconds, order_id, _ = agree_to_refund(client)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert seconds < 10
    sweep()
    assert refund_entries(order_id) == 1


def test_a_failing_after_commit_callback_is_logged_and_the_others_still_run(ctx, caplog):
    ran = []
    with caplog.at_level(logging.ERROR):
        with transaction():
            after_commit(lambda: 1 / 0)
            after_commit(lambda: ran.append("second"))
    assert ran == ["second"]
    assert "ZeroDivisionError" in caplog.text
