"""The malicious upload corpus (tests/evidence/malicious.py) through the real upload endpoints, on the
file and the S3 backend: each refused with a 4xx in the API error format, leaving no stored object, no
temporary file, no evidence row and no case event. Kinds accept only the content types of
evidence_store.KIND_MIMES (the test is generated from that table); CSV chat exports are served with
formula cells neutralised."""
import hashlib
import re

import pytest
from sqlalchemy import func, select

from app.cases.models import CaseEvent
from app.evidence.models import EVIDENCE_KINDS, Evidence
from app.extensions import db
from evidence_store import KIND_MIMES

from ..api.helpers import assert_error, token_for
from ..evidence_store.conftest import FileBackend, S3Backend, s3_endpoint  # noqa: F401  (fixture)
from ..factories import make_order
from .malicious import CORPUS, GOOD, evidence_parts, multipart, part


@pytest.fixture(params=["file", "s3"])
def backend(request, app, tmp_path):
    backend = FileBackend(tmp_path) if request.param == "file" else \
        S3Backend(tmp_path, request.getfixturevalue("s3_endpoint"))
    backend.store = backend.open_store(max_image_pixels=app.config["EVIDENCE_MAX_IMAGE_PIXELS"])
    saved = app.extensions.get("evidence_store")
    app.extensions["evidence_store"] = backend.store
    yield backend
    if saved is None:
        app.extensions.pop("evidence_store", None)
    else:
        app.extensions["evidence_store"] = saved


@pytest.fixture
def case(client, ctx):
    order, buyer, _ = make_order(state="delivered")
    headers = token_for(client, buyer)
    response = client.post(f"/api/v1/orders/{order.id}/cases", headers=headers,
                           json={"kind": "refund_only", "reason": "damaged", "amount_fen": 5_000})
    return response.get_json()["id"], headers, buyer


def send(client, case_id, headers, parts):
    body, ctype = multipart(parts)
    return client.post(f"/api/v1/cases/{case_id}/evidence", data=body, headers={**headers, "Content-Type": ctype})


def footprint(backend):
    count = db.session.execute(select(func.count()).select_from(Evidence)).scalar_one()
    events = db.session.execute(select(func.count()).select_from(CaseEvent)).scalar_one()
    return backend.raw_names(), backend.leftovers(), count, events


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 40 and len({bad.name for bad in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("bad", CORPUS, ids=lambda bad: bad.name)
def test_malicious_upload_is_refused_and_leaves_nothing(client, case, backend, bad):
    case_id, headers, _ = case
    before = footprint(backend)
    body, ctype = bad.body()
    response = client.post(f"/api/v1/cases/{case_id}/evidence", data=body, headers={**headers, "Content-Type": ctype})
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    assert set(response.get_json()) == {"error"} and set(error) == {"code", "message", "details"}
    db.session.rollback()
    assert footprint(backend) == before


def page_upload(client, case_id, parts):
    """The case page's upload form: its CSRF token sent in the URL (today's form) and in the body."""
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    token = re.search(r'csrf_token(?:=|" value=")([^"&]+)', page).group(1)
    body, ctype = multipart([part("csrf_token", token), *parts])
    return client.post(f"/cases/{case_id}/evidence?csrf_token={token}", data=body,
                       headers={"Content-Type": ctype, "Referer": f"/cases/{case_id}"})


@pytest.mark.parametrize("bad", [b for b in CORPUS if b.name in (
    "html_named_png", "pdf_openaction_js", "mp4_ftyp_then_html", "png_pixel_flood", "pdf_as_photo")],
    ids=lambda bad: bad.name)
def test_page_upload_refuses_a_sample_and_leaves_nothing(app, client, case, backend, login_as, bad):
    case_id, _, buyer = case
    login_as(buyer)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        before = footprint(backend)
        response = page_upload(client, case_id, bad.parts or evidence_parts(bad.data, bad.kind, bad.filename))
        assert response.status_code == 302 and not response.headers["Location"].endswith("#evidence")
        db.session.rollback()
        assert footprint(backend) == before
        good = page_upload(client, case_id, evidence_parts(GOOD["image/png"], "photo", "a.png"))
        assert good.status_code == 302 and good.headers["Location"].endswith("#evidence")  # the form works
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _kind_cases():
    for kind in EVIDENCE_KINDS:
        for mime in GOOD:
            yield pytest.param(kind, mime, mime in KIND_MIMES[kind], id=f"{kind}-{mime}")


def test_every_kind_has_a_rule():
    assert set(KIND_MIMES) == set(EVIDENCE_KINDS)


@pytest.mark.parametrize("kind,mime,accepted", list(_kind_cases()))
def test_kind_accepts_only_its_content_types(client, case, backend, kind, mime, accepted):
    case_id, headers, _ = case
    before = footprint(backend)
    response = send(client, case_id, headers, evidence_parts(GOOD[mime], kind, "sample.bin"))
    if accepted:
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["mime"] == mime
    else:
        error = assert_error(response, 422, "invalid")
        assert error["details"]["file"]
        db.session.rollback()
        assert footprint(backend) == before


def test_kind_mismatch_is_explained_in_chinese(client, case, backend):
    case_id, headers, _ = case
    response = send(client, case_id, {**headers, "Accept-Language": "zh-CN"},
                    evidence_parts(GOOD["application/pdf"], "photo", "a.pdf"))
    error = assert_error(response, 422, "invalid")
    assert "照片" in error["message"] and "JPEG" in error["message"]


CSV = ("时间,发送者,内容\n"
       "10:00,买家,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"点我\"\")\"\n"
       "10:01,卖家,+1+1\n"
       "10:02,买家,-2+3\n"
       "10:03,卖家,@SUM(A1)\n"
       "10:04,买家,\"\tTAB\"\n"
       "10:05,卖家,普通消息\n").encode()


def test_csv_chat_export_is_served_with_formulas_neutralised(client, case, backend):
    case_id, headers, _ = case
    response = send(client, case_id, headers, evidence_parts(CSV, "chat_export", "chat.csv"))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["mime"] == "text/csv" and created["sha256"] == hashlib.sha256(CSV).hexdigest()
    served = client.get(f"/api/v1/evidence/{created['id']}/content", headers=headers)
    assert served.status_code == 200 and served.mimetype == "text/csv"
    rows = served.get_data(as_text=True).splitlines()
    assert rows[0] == "时间,发送者,内容" and rows[6] == "10:05,卖家,普通消息"
    cells = [row.split(",", 2)[2] for row in rows[1:6]]
    assert cells == ['"\'=HYPERLINK(""http://evil.example"",""点我"")"', "'+1+1", "'-2+3", "'@SUM(A1)", "'\tTAB"]
    assert all(not cell.lstrip('"').startswith(("=", "+", "-", "@", "\t")) for cell in cells)
