"""Evidence and messages through the HTTP API: uploads, rejections, access, downloads, threads."""
import io
import os
import struct
import threading
import time
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.cases.models import CaseEvent
from app.evidence.models import Evidence
from app.extensions import db

from ..api.helpers import assert_error, token_for
from ..factories import make_order, make_user
from .malicious import GOOD


def png_bytes(size=(40, 30), color=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def bomb_png(width=60000, height=60000):
    """A tiny PNG whose header claims width x height pixels."""
    raw = png_bytes((1, 1))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return raw[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[33:]


@pytest.fixture
def case_setup(client, ctx):
    order, buyer, seller = make_order(state="delivered")
    b = token_for(client, buyer)
    case = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "refund_only", "reason": "damaged", "amount_fen": 5_000}).get_json()
    return case["id"], buyer, seller, b, token_for(client, seller)


def upload(client, headers, case_id, data, filename="photo.png", kind="photo", description="破损照片"):
    return client.post(f"/api/v1/cases/{case_id}/evidence", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename), "kind": kind, "description": description})


def stored_files(app):
    root = app.config["EVIDENCE_STORE_URL"].removeprefix("file://")
    tmp = os.path.join(root, "tmp")
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files if d != tmp)


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_upload_stores_by_sha256_dedupes_and_audits(app, client, case_setup):
    case_id, buyer, seller, b, s = case_setup
    data = png_bytes()
    first = upload(client, b, case_id, data)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    import hashlib
    assert (body["sha256"], body["size"], body["mime"]) == (hashlib.sha256(data).hexdigest(), len(data), "image/png")
    assert body["has_thumbnail"] is True and body["uploader_role"] == "buyer"
    again = upload(client, s, case_id, data, filename="same.png")
    assert again.status_code == 201 and again.get_json()["sha256"] == body["sha256"]
    assert count(Evidence) == 2
    assert len([f for f in stored_files(app) if body["sha256"] in f]) == 1  # one file for both records
    events = client.get(f"/api/v1/cases/{case_id}/events", headers=b).get_json()["items"]
    assert [e["trigger"] for e in events].count("upload_evidence") == 2
    assert client.get(f"/api/v1/cases/{case_id}/audit", headers=b).get_json()["valid"] is True


@pytest.mark.parametrize("data,filename,status,code", [
    (b"MZ\x90\x00" + b"\x00" * 200, "invoice.png", 415, "unsupported_type"),    # an .exe named .png
    (b"PK\x03\x04" + b"\x00" * 100, "chat.csv", 415, "unsupported_type"),      # a zip named .csv
    (b"", "empty.jpg", 422, "invalid"),
    (b"\xff\xd8\xff\xe0" + b"garbage" * 50, "broken.jpg", 422, "invalid"),      # JPEG magic, corrupt body
])
def test_rejected_uploads_leave_no_file_and_no_row(app, client, case_setup, data, filename, status, code):
    case_id, _, _, b, _ = case_setup
    before = (stored_files(app), count(Evidence), count(CaseEvent))
    assert_error(upload(client, b, case_id, data, filename=filename), status, code)
    assert (stored_files(app), count(Evidence), count(CaseEvent)) == before


def test_decompression_bomb_is_rejected(app, client, case_setup):
    case_id, _, _, b, _ = case_setup
    files = stored_files(app)
    assert_error(upload(client, b, case_id, bomb_png()), 422, "invalid")
    assert count(Evidence) == 0 and stored_files(app) == files


def test_too_large_upload_is_413_and_leaves_nothing(app, client, case_setup):
    case_id, _, _, b, _ = case_setup
    files = stored_files(app)
    app.config["EVIDENCE_MAX_BYTES"] = 50_000
    try:
        data = b"a,b\n" + b"1,2\n" * 20_000  # 80 KB of CSV
        assert_error(upload(client, b, case_id, data, filename="chat.csv", kind="chat_export"), 413, "too_large")
    finally:
        app.config["EVIDENCE_MAX_BYTES"] = 20 * 1024 * 1024
    assert count(Evidence) == 0 and stored_files(app) == files


def test_a_full_path_filename_is_only_metadata(app, client, case_setup):
    case_id, _, _, b, _ = case_setup
    response = upload(client, b, case_id, b"order,amount\n1,2\n", filename="/etc/passwd", kind="chat_export")
    assert response.status_code == 201 and response.get_json()["filename"] == "passwd"
    sha = response.get_json()["sha256"]
    assert all(os.path.basename(f) == sha or sha not in f for f in stored_files(app))
    assert any(f.endswith(sha) for f in stored_files(app))
    assert not os.path.exists("/etc/passwd.bak-tiaojie")


def test_bad_kind_and_missing_file_are_422(client, case_setup):
    case_id, _, _, b, _ = case_setup
    assert_error(upload(client, b, case_id, png_bytes(), kind="selfie"), 422, "invalid")
    response = client.post(f"/api/v1/cases/{case_id}/evidence", headers=b, data={"kind": "photo"},
                           content_type="multipart/form-data")
    assert_error(response, 422, "invalid")
    assert count(Evidence) == 0


def test_non_party_cannot_upload_or_see_evidence(app, client, case_setup):
    case_id, _, _, b, s = case_setup
    evidence_id = upload(client, b, case_id, png_bytes()).get_json()["id"]
    files = stored_files(app)
    for role in ("buyer", "seller", "mediator", "admin"):
        other = token_for(client, make_user(role))
        assert upload(client, other, case_id, png_bytes(color=(1, 2, 3))).status_code in (403, 404)
        assert_error(client.get(f"/api/v1/evidence/{evidence_id}/content", headers=other), 404, "not_found")
        assert client.get(f"/api/v1/cases/{case_id}/evidence", headers=other).status_code in (403, 404)
    assert stored_files(app) == files and count(Evidence) == 1
    assert client.get(f"/api/v1/evidence/{evidence_id}/content", headers=s).status_code == 200


def test_downloads_are_nosniff_and_non_images_are_attachments(client, case_setup):
    case_id, _, _, b, _ = case_setup
    image_id = upload(client, b, case_id, png_bytes()).get_json()["id"]
    pdf = GOOD["application/pdf"]
    pdf_id = upload(client, b, case_id, pdf, filename="invoice.pdf", kind="document").get_json()["id"]
    image = client.get(f"/api/v1/evidence/{image_id}/content", headers=b)
    assert image.headers["X-Content-Type-Options"] == "nosniff" and image.mimetype == "image/png"
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    document = client.get(f"/api/v1/evidence/{pdf_id}/content", headers=b)
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert document.headers["X-Content-Type-Options"] == "nosniff" and document.data == pdf
    thumb = client.get(f"/api/v1/evidence/{image_id}/content?thumbnail=1", headers=b)
    assert thumb.mimetype == "image/jpeg" and Image.open(io.BytesIO(thumb.data)).size[0] <= 320


def test_evidence_cannot_be_deleted_or_replaced(client, case_setup):
    case_id, _, _, b, _ = case_setup
    evidence_id = upload(client, b, case_id, png_bytes()).get_json()["id"]
    for method in (client.delete, client.put):
        assert method(f"/api/v1/evidence/{evidence_id}/content", headers=b).status_code == 405
    assert count(Evidence) == 1


def test_closed_case_accepts_no_more_evidence_or_messages(client, case_setup):
    case_id, _, _, b, _ = case_setup
    client.post(f"/api/v1/cases/{case_id}/actions/withdraw", headers=b, json={})
    assert_error(upload(client, b, case_id, png_bytes()), 409, "action_not_available")
    assert_error(client.post(f"/api/v1/cases/{case_id}/messages", headers=b, json={"body": "还在吗"}), 409,
                 "action_not_available")


def test_messages_are_ordered_paginated_limited_and_attach_evidence(client, case_setup):
    case_id, _, _, b, s = case_setup
    evidence_id = upload(client, b, case_id, png_bytes()).get_json()["id"]
    response = client.post(f"/api/v1/cases/{case_id}/messages", headers=b,
                           json={"body": "见附件照片", "evidence_ids": [evidence_id]})
    assert response.status_code == 201 and response.get_json()["evidence_ids"] == [evidence_id]
    client.post(f"/api/v1/cases/{case_id}/messages", headers=s, json={"body": "已收到"})
    body = client.get(f"/api/v1/cases/{case_id}/messages?per_page=2&page=2", headers=b).get_json()
    assert body["total"] == 3 and [m["body"] for m in body["items"]] == ["已收到"]  # system message first
    assert_error(client.post(f"/api/v1/cases/{case_id}/messages", headers=b, json={"body": "x" * 5001}), 422, "invalid")
    assert_error(client.post(f"/api/v1/cases/{case_id}/messages", headers=b, json={"body": "  "}), 422, "invalid")
    assert_error(client.post(f"/api/v1/cases/{case_id}/messages", headers=b,
                             json={"body": "hi", "evidence_ids": [999999]}), 422, "invalid")
    assert client.get(f"/api/v1/cases/{case_id}/messages", headers=b).get_json()["total"] == 3


def test_order_chat_is_seen_by_the_mediator_but_written_only_by_the_parties(client, ctx):
    order, buyer, seller = make_order(state="delivered")
    b, s = token_for(client, buyer), token_for(client, seller)
    assert client.post(f"/api/v1/orders/{order.id}/messages", headers=b, json={"body": "什么时候到？"}).status_code == 201
    assert client.post(f"/api/v1/orders/{order.id}/messages", headers=s, json={"body": "明天到"}).status_code == 201
    mediator = make_user("mediator")
    m = token_for(client, mediator)
    assert_error(client.get(f"/api/v1/orders/{order.id}/messages", headers=m), 404, "not_found")
    case_id = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "refund_only", "reason": "damaged", "amount_fen": 100}).get_json()["id"]
    client.post(f"/api/v1/cases/{case_id}/actions/refuse", headers=s, json={"reason": "no"})
    client.post(f"/api/v1/cases/{case_id}/actions/escalate", headers=b, json={"type": "quality"})
    client.post(f"/api/v1/cases/{case_id}/actions/respond", headers=s, json={"statement": "ok"})
    chat = client.get(f"/api/v1/orders/{order.id}/messages", headers=m).get_json()
    assert [x["body"] for x in chat["items"]] == ["什么时候到？", "明天到"]
    assert_error(client.post(f"/api/v1/orders/{order.id}/messages", headers=m, json={"body": "hi"}), 403, "forbidden")


def test_flask_evidence_verify_finds_a_tampered_file(app, client, case_setup, runner):
    case_id, _, _, b, _ = case_setup
    # content no other test uploads: the store outlives each test, and this file gets damaged
    sha = upload(client, b, case_id, png_bytes(size=(17, 13), color=(7, 77, 177))).get_json()["sha256"]
    ok = runner.invoke(args=["evidence", "verify"])
    assert ok.exit_code == 0 and "0 bad" in ok.output
    path = next(f for f in stored_files(app) if f.endswith(sha))
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(10)
        f.write(b"tampered")
    bad = runner.invoke(args=["evidence", "verify"])
    assert bad.exit_code == 1 and f"BAD {sha}" in bad.output


class _FirstRead(io.BytesIO):
    """A request body that calls `hook` when the server starts reading it."""

    def __init__(self, data, hook):
        super().__init__(data)
        self.hook = hook

    def _first(self):
        hook, self.hook = self.hook, None
        if hook:
            hook()

    def read(self, *args):
        self._first()
        return super().read(*args)

    def readinto(self, buffer):
        self._first()
        return super().readinto(buffer)


def upload_while(client, headers, case_id, data, hook):
    """Upload `data` as a photo; `hook` runs once the server has checked the uploader and reads the body."""
    boundary = "tiaojie-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nphoto\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post(f"/api/v1/cases/{case_id}/evidence", headers=headers, input_stream=_FirstRead(body, hook),
                       content_length=len(body), content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("already_stored", [False, True])
def test_an_upload_to_a_case_closed_meanwhile_is_409_and_adds_no_file(app, client, case_setup, already_stored):
    """The buyer withdraws the case while the seller's photo is on its way: no row, so no new file; the
    same content already on another row keeps its file."""
    case_id, _, _, b, s = case_setup
    data = png_bytes(size=(23, 19), color=(3, 33, 133 + already_stored))  # content no other test uploads
    if already_stored:
        assert upload(client, s, case_id, data).status_code == 201
    files, rows = stored_files(app), count(Evidence)
    withdrawn = []

    def withdraw():  # another request, on its own thread, while this one is reading the body
        t = threading.Thread(target=lambda: withdrawn.append(app.test_client().post(
            f"/api/v1/cases/{case_id}/actions/withdraw", headers=b, json={}).status_code))
        t.start()
        t.join()

    assert_error(upload_while(client, s, case_id, data, withdraw), 409, "action_not_available")
    assert withdrawn == [200]
    assert stored_files(app) == files and count(Evidence) == rows
    assert os.listdir(os.path.join(app.config["EVIDENCE_STORE_URL"].removeprefix("file://"), "tmp")) == []


def test_flask_evidence_verify_reports_and_cleans_orphans_and_stale_temp_files(app, client, case_setup, runner):
    from app.evidence.storage import get_store

    case_id, _, _, b, _ = case_setup
    kept = upload(client, b, case_id, png_bytes(size=(11, 7), color=(9, 99, 199))).get_json()
    store = get_store()
    hours_ago = time.time() - 2 * 3600
    orphan = store.put_bytes(b"a file whose upload never got its row\n").sha256
    young_orphan = store.put_bytes(b"a file whose row is being written right now\n").sha256
    killed = os.path.join(store.tmp_dir, "upload-killed.part")
    with open(killed, "wb") as f:
        f.write(b"half an upload")
    for path in (store.path(orphan), killed):
        os.utime(path, (hours_ago, hours_ago))

    found = runner.invoke(args=["evidence", "verify"])
    assert found.exit_code == 1, found.output
    assert f"ORPHAN {orphan}" in found.output and f"STALE {killed}" in found.output
    assert young_orphan not in found.output and kept["sha256"] not in found.output
    assert store.exists(orphan) and os.path.exists(killed)

    cleaned = runner.invoke(args=["evidence", "verify", "--clean"])
    assert cleaned.exit_code == 0, cleaned.output
    assert f"ORPHAN {orphan}: no evidence refers to it (removed)" in cleaned.output
    assert not store.exists(orphan) and not os.path.exists(killed)
    assert store.exists(young_orphan) and store.verify(kept["sha256"])
    assert client.get(f"/api/v1/evidence/{kept['id']}/content", headers=b).status_code == 200

    again = runner.invoke(args=["evidence", "verify"])
    assert again.exit_code == 0 and "0 bad, 0 orphaned, 0 stale" in again.output
    store.delete(young_orphan)


def in_thread(fn):
    """Run `fn` on its own thread (its own app context and database session, like another process) and
    return its result."""
    result = []
    t = threading.Thread(target=lambda: result.append(fn()))
    t.start()
    t.join()
    assert result, "the thread failed"
    return result[0]


@pytest.mark.parametrize("phase", ["rehash", "listing"])
@pytest.mark.parametrize("meanwhile", ["upload", "row", "reuse"])
def test_verify_clean_keeps_an_old_file_that_gets_used_while_it_runs(app, client, case_setup, runner,
                                                                     monkeypatch, meanwhile, phase):
    """F1: `--clean` reads the referenced hashes, re-hashes every file (slow), lists the old unreferenced
    files, then removes them. A file that was an old orphan when it started but got used during the re-hash
    or after the listing must stay: an upload of the same bytes (its row, and the file's fresh modified
    time), a row alone, or the store reusing it alone (fresh modified time, no row yet)."""
    from app.auth.models import User
    from app.evidence.services import add_evidence
    from app.evidence.storage import get_store

    import evidence_store

    case_id, buyer, _, b, _ = case_setup
    buyer_id = buyer.id
    variant = ["upload", "row", "reuse"].index(meanwhile) + 3 * ["rehash", "listing"].index(phase)
    # content no other test uploads: the store outlives each test
    assert upload(client, b, case_id, png_bytes(size=(13, 29), color=(5, 55, 155 + variant))).status_code == 201
    data = png_bytes(size=(31, 37), color=(6, 66, 166 + variant))
    store = get_store()
    planted = store.put_bytes(data).sha256  # an upload whose row was never written
    hours_ago = time.time() - 2 * 3600
    os.utime(store.path(planted), (hours_ago, hours_ago))
    used = []

    def use_it():
        if meanwhile == "upload":
            response = app.test_client().post(
                f"/api/v1/cases/{case_id}/evidence", headers=b, content_type="multipart/form-data",
                data={"file": (io.BytesIO(data), "again.png"), "kind": "photo", "description": "同一张"})
            assert response.status_code == 201, response.get_json()
            return response.get_json()["id"]
        if meanwhile == "row":
            with app.app_context():
                stored = evidence_store.Stored(sha256=planted, size=len(data), mime="image/png", created=False)
                return add_evidence(case_id, actor=db.session.get(User, buyer_id), kind="photo", description="",
                                    stored=stored).id
        assert store.put_bytes(data).created is False
        return None

    real_verify, real_iter_all = store.verify, store.iter_all

    def verify_while_used(sha):
        if not used:
            used.append(in_thread(use_it))
        return real_verify(sha)

    def iter_all_then_used():  # once every file's age was read: the orphans are listed
        yield from real_iter_all()
        used.append(in_thread(use_it))

    if phase == "rehash":
        monkeypatch.setattr(store, "verify", verify_while_used)
    else:
        monkeypatch.setattr(store, "iter_all", iter_all_then_used)
    cleaned = runner.invoke(args=["evidence", "verify", "--clean"])
    monkeypatch.undo()
    assert len(used) == 1, "the hook never ran"
    assert cleaned.exit_code == 0, cleaned.output
    assert planted not in cleaned.output
    assert store.exists(planted) and store.verify(planted)
    if used[0] is not None:
        assert client.get(f"/api/v1/evidence/{used[0]}/content", headers=b).status_code == 200
    store.delete(planted)  # leave the shared store as it was


def test_a_failed_upload_keeps_its_new_file_when_another_upload_reused_it(app, client, case_setup, monkeypatch):
    """F1b: upload A stores new bytes; upload B of the same bytes to another case reuses A's file; A's row
    then fails (its case closed meanwhile). A's clean-up runs before B's row is committed: it must see that
    B touched the file and leave it (for `verify --clean`), so B's row never points to a missing file."""
    from app.auth.models import User
    from app.evidence import services
    from app.evidence.storage import get_store

    case_id, _, _, b, s = case_setup
    order2, buyer2, _ = make_order(state="delivered")
    b2 = token_for(client, buyer2)
    case2 = client.post(f"/api/v1/orders/{order2.id}/cases", headers=b2, json={
        "kind": "refund_only", "reason": "damaged", "amount_fen": 5_000}).get_json()["id"]
    buyer2_id = buyer2.id
    data = png_bytes(size=(41, 43), color=(8, 88, 188))  # content no other test uploads
    store = get_store()
    real_add = services.add_evidence
    reused = []

    def add_evidence_after_b_reuses(*args, **kwargs):
        # A's file is stored; now B's upload of the same bytes reuses it, and the buyer withdraws case 1
        reused.append(store.put_bytes(data))
        assert in_thread(lambda: app.test_client().post(f"/api/v1/cases/{case_id}/actions/withdraw",
                                                        headers=b, json={}).status_code) == 200
        return real_add(*args, **kwargs)

    monkeypatch.setattr(services, "add_evidence", add_evidence_after_b_reuses)
    assert_error(upload(client, s, case_id, data), 409, "action_not_available")
    monkeypatch.undo()
    assert reused and reused[0].created is False
    assert store.exists(reused[0].sha256)  # B's row is about to point to it

    def b_row():
        with app.app_context():
            return services.add_evidence(case2, actor=db.session.get(User, buyer2_id), kind="photo",
                                         description="", stored=reused[0]).id
    evidence_id = in_thread(b_row)
    assert client.get(f"/api/v1/evidence/{evidence_id}/content", headers=b2).status_code == 200


def test_failed_upload_clean_up_removes_only_files_nobody_touched_since(app, ctx):
    """discard_unreferenced: a file this upload created is removed while untouched and unreferenced; once
    another upload stored the same bytes (a fresh modified time / stamp) it stays."""
    from app.evidence.services import discard_unreferenced
    from app.evidence.storage import get_store

    store = get_store()
    untouched = store.put_bytes(b"an upload whose row failed\n")
    reused = store.put_bytes(b"an upload whose row failed, reused meanwhile\n")
    assert store.put_bytes(b"an upload whose row failed, reused meanwhile\n").created is False
    discard_unreferenced(store, [untouched, reused])
    assert not store.exists(untouched.sha256)
    assert store.exists(reused.sha256)
    store.delete(reused.sha256)
