"""Eight people pressing the same button at once, through the HTTP API, each request on its own
thread (as under a threaded server): every request waits its turn and answers 2xx or 409, never 500.
Runs on the session database: a SQLite file by default (the embedded default), PostgreSQL with --db."""
import io
import os
import threading

from PIL import Image
from sqlalchemy import func, select

from app.cases.models import CaseMessage
from app.evidence.models import Evidence
from app.execution.models import ExecutionTask
from app.extensions import db

from ..factories import make_order
from .helpers import token_for

N = 8


def concurrently(app, requests):
    """Send each request (a function of a test client) from its own thread at the same moment."""
    barrier, statuses = threading.Barrier(len(requests)), [None] * len(requests)

    def run(i):
        client = app.test_client()
        barrier.wait()
        response = requests[i](client)
        statuses[i] = (response.status_code, response.get_data(as_text=True)[:300])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.rollback()  # end the test's own read transaction: on SQLite (WAL) it would still see the old rows
    return statuses


def assert_only(statuses, allowed):
    bad = [s for s in statuses if s[0] not in allowed]
    assert not bad, bad
    return sorted(code for code, _ in statuses)


def open_refund(client, amount_fen=6_000, state="delivered"):
    order, buyer, seller = make_order(state=state, price_fen=10_000)
    b, s = token_for(client, buyer), token_for(client, seller)
    response = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "refund_only", "reason": "quality", "amount_fen": amount_fen})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"], b, s


def action(case_id, headers, name):
    return lambda client: client.post(f"/api/v1/cases/{case_id}/actions/{name}", headers=headers, json={})


def png(i):
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (i * 30 % 256, 90, 200)).save(buf, "PNG")
    return buf.getvalue()


def test_eight_sellers_agreeing_at_once_agree_once_and_the_rest_get_409(app, client, ctx):
    case_id, _, s = open_refund(client)
    statuses = concurrently(app, [action(case_id, s, "agree")] * N)
    assert assert_only(statuses, (200, 409)) == [200] + [409] * (N - 1)


def test_eight_sellers_paying_a_refund_at_once_pay_once_and_the_rest_get_409(app, client, ctx):
    # the order completed, so its money was released: the agreed refund waits for the seller to pay it
    case_id, _, s = open_refund(client, state="completed")
    assert client.post(f"/api/v1/cases/{case_id}/actions/agree", headers=s, json={}).status_code == 200
    task = db.session.execute(select(ExecutionTask).where(ExecutionTask.case_id == case_id)).scalar_one()
    assert task.state == "awaiting_seller"
    statuses = concurrently(app, [action(case_id, s, "pay_refund")] * N)
    assert assert_only(statuses, (200, 409)) == [200] + [409] * (N - 1)
    assert db.session.get(ExecutionTask, task.id).state == "done"


def test_eight_messages_posted_at_once_are_all_kept(app, client, ctx):
    case_id, b, s = open_refund(client)
    before = db.session.execute(select(func.count()).select_from(CaseMessage)).scalar_one()
    statuses = concurrently(app, [
        lambda c, i=i: c.post(f"/api/v1/cases/{case_id}/messages", headers=(b, s)[i % 2], json={"body": f"消息{i}"})
        for i in range(N)])
    assert assert_only(statuses, (201,)) == [201] * N
    assert db.session.execute(select(func.count()).select_from(CaseMessage)).scalar_one() == before + N


def test_eight_uploads_to_one_case_at_once_all_succeed_with_their_files(app, client, ctx):
    case_id, b, s = open_refund(client)
    statuses = concurrently(app, [
        lambda c, i=i: c.post(f"/api/v1/cases/{case_id}/evidence", headers=(b, s)[i % 2],
                              content_type="multipart/form-data",
                              data={"file": (io.BytesIO(png(i)), f"{i}.png"), "kind": "photo"})
        for i in range(N)])
    assert assert_only(statuses, (201,)) == [201] * N
    rows = db.session.execute(select(Evidence).where(Evidence.case_id == case_id)).scalars().all()
    assert len(rows) == N
    root = app.config["EVIDENCE_STORE_URL"].removeprefix("file://")
    for row in rows:
        assert os.path.exists(os.path.join(root, row.sha256[:2], row.sha256[2:4], row.sha256))
