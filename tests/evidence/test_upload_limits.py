"""Uploads through the API and the case page that the streaming parser refuses (issue 11, findings 3 and 7):
NUL and unsafe file names are a 4xx, the page's CSRF token travels in the form body before the file, and
every refusal leaves no file, no temporary file and no row (run with --db=postgres too)."""
import html as html_lib
import io
import os
import re

import pytest

from app.cases.models import Case, CaseEvent
from app.evidence.models import Evidence
from app.extensions import db

from ..api.helpers import assert_error
from .test_evidence_api import case_setup, png_bytes, stored_files  # noqa: F401  (case_setup: a fixture)

_colors = iter(range(1, 250))


def fresh_png():
    """A picture no other upload of the test run has stored (the store dedups by content)."""
    return png_bytes(size=(9, 5), color=(17, next(_colors), 71))


def everything(app):
    root = app.config["EVIDENCE_STORE_URL"].removeprefix("file://")
    files = sorted(os.path.join(d, f) for d, _, names in os.walk(root) for f in names)
    return files, db.session.query(Evidence).count(), db.session.query(CaseEvent).count()


def post(client, url, fields, headers=None):
    """A multipart body with the fields in the given order (a list of (name, value))."""
    boundary = "----tiaojieTestBoundary7MA4YWxk"
    out = b""
    for name, value in fields:
        if isinstance(value, tuple):
            data, filename = value
            out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
        else:
            out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += f"--{boundary}--\r\n".encode()
    return client.post(url, data=out, headers=headers or {},
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("fields, problem", [
    ([("kind", "photo"), ("description", "破\x00损")], "description"),
    ([("kind", "photo"), ("description", "x" * 20_000)], "description"),
    ([("kind\x00", "photo")], "field"),
], ids=["nul-description", "long-description", "nul-name"])
def test_api_upload_with_a_bad_field_is_422_and_leaves_nothing(app, client, case_setup, fields, problem):  # noqa: F811
    case_id, _, _, b, _ = case_setup
    before = everything(app)
    response = post(client, f"/api/v1/cases/{case_id}/evidence", fields + [("file", (fresh_png(), "a.png"))], b)
    assert problem in assert_error(response, 422, "invalid")["details"]
    assert everything(app) == before


@pytest.mark.parametrize("filename", ["a\x00.png", "photo\u202egnp.exe", "tab\there.png", "长" * 90 + ".png"],
                         ids=["nul", "rtl-override", "tab", "overlong"])
def test_api_upload_with_an_unsafe_filename_is_422_and_leaves_nothing(app, client, case_setup, filename):  # noqa: F811
    case_id, _, _, b, _ = case_setup
    before = everything(app)
    response = post(client, f"/api/v1/cases/{case_id}/evidence",
                    [("kind", "photo"), ("file", (fresh_png(), filename))], b)
    assert assert_error(response, 422, "invalid")["details"] == {"filename": response.get_json()["error"][
        "details"]["filename"]}
    assert everything(app) == before


def test_a_climbing_path_is_refused_and_a_full_path_keeps_its_last_component(app, client, case_setup):  # noqa: F811
    case_id, _, _, b, _ = case_setup
    before = everything(app)
    response = post(client, f"/api/v1/cases/{case_id}/evidence",
                    [("kind", "photo"), ("file", (fresh_png(), "../../../etc/cron.d/x.png"))], b)
    assert assert_error(response, 422, "invalid")["details"] == {"filename": "path"}
    assert everything(app) == before
    response = post(client, f"/api/v1/cases/{case_id}/evidence",
                    [("kind", "photo"), ("file", (fresh_png(), "/home/me/x.png"))], b)
    assert response.status_code == 201 and response.get_json()["filename"] == "x.png"


def test_thousands_of_parts_are_422_and_leave_nothing(app, client, case_setup):  # noqa: F811
    case_id, _, _, b, _ = case_setup
    before = everything(app)
    fields = [(f"f{i}", "v") for i in range(3000)] + [("kind", "photo"), ("file", (fresh_png(), "a.png"))]
    assert_error(post(client, f"/api/v1/cases/{case_id}/evidence", fields, b), 422, "invalid")
    assert everything(app) == before


def test_the_werkzeug_clients_empty_field_does_not_hide_the_file(client, case_setup):  # noqa: F811
    case_id, _, _, b, _ = case_setup
    response = client.post(f"/api/v1/cases/{case_id}/evidence", headers=b, content_type="multipart/form-data",
                           data={"kind": "photo", "description": "", "file": (io.BytesIO(fresh_png()), "a.png")})
    assert response.status_code == 201, response.get_json()


# The case page's upload form: the CSRF token in the body, before the file.

@pytest.fixture
def page_case(app, client, ctx, login_as):
    from ..factories import make_order
    order, buyer, _ = make_order(state="delivered")
    login_as(buyer)
    client.post(f"/orders/{order.id}/cases", data={"case-kind": "refund_only", "case-reason": "damaged",
                                                   "case-amount": "10", "case-description": "坏了"})
    case = db.session.query(Case).one()
    app.config["WTF_CSRF_ENABLED"] = True
    yield case
    app.config["WTF_CSRF_ENABLED"] = False


def _form(client, case):
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*enctype="multipart/form-data"[^>]*>.*?</form>', html, re.S).group(0)
    action = re.search(r'action="([^"]+)"', form).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return form, action, token


def test_the_upload_form_carries_its_token_in_the_body_before_the_file(client, page_case):
    form, action, token = _form(client, page_case)
    assert "csrf_token" not in action and action == f"/cases/{page_case.id}/evidence"
    assert form.index('name="csrf_token"') < form.index('type="file"')
    response = post(client, action, [("csrf_token", token), ("file", (fresh_png(), "破损.png")), ("kind", "photo"),
                                     ("description", "快递箱破损")])
    assert response.status_code == 302 and response.headers["Location"].endswith("#evidence")
    assert "证据已上传" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.query(Evidence).count() == 1


@pytest.mark.parametrize("how", ["query-string", "missing", "forged", "after-the-file"])
def test_a_page_upload_without_a_token_before_the_file_stores_nothing(app, client, page_case, how):
    _, action, token = _form(client, page_case)
    before = everything(app)
    file = ("file", (fresh_png(), "a.png"))
    fields = {"query-string": [file], "missing": [file], "forged": [("csrf_token", "forged"), file],
              "after-the-file": [file, ("csrf_token", token)]}[how]
    url = f"{action}?csrf_token={token}" if how == "query-string" else action
    response = post(client, url, fields + [("kind", "photo")], {"Referer": f"/cases/{page_case.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{page_case.id}"
    assert "表单已过期" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert everything(app) == before


def test_a_page_upload_with_nul_in_its_description_shows_a_message_and_stores_nothing(app, client, page_case):
    _, action, token = _form(client, page_case)
    before = everything(app)
    response = post(client, action, [("csrf_token", token), ("kind", "photo"), ("description", "坏\x00了"),
                                     ("file", (fresh_png(), "a.png"))], {"Referer": f"/cases/{page_case.id}"})
    assert response.status_code == 302
    message = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "说明" in message and "请检查输入：description" not in message
    assert everything(app) == before


# What the case page says when it refuses an upload: one Chinese sentence that tells the uploader what to do,
# never the API's detail codes ("file: …", "filename: path", "description: …"). Found by uploading real files
# in a browser (issue 11 user review).

def _flash(client, response):
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    return html_lib.unescape(re.search(r'<div class="flash error">(.*?)</div>', html, re.S).group(1))


def _gbk_csv():
    return "时间,发送人,内容\n2026-11-28 14:01,张伟,收到了颜色不对\n2026-11-28 14:03,周强,亲请稍等\n".encode("gbk")


def _heic():
    from .malicious import box
    return box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + box(b"meta", b"\x00" * 64)


def _mov():
    from .malicious import mp4
    return mp4(brand=b"qt  ")


def _encrypted():
    from .malicious import encrypted_pdf
    return encrypted_pdf()


def _pdf():
    from .malicious import GOOD
    return GOOD["application/pdf"]


@pytest.mark.parametrize("kind, data, filename, description, says", [
    ("photo", _pdf, "发票.pdf", "", ["照片", "JPEG", "PDF"]),
    ("chat_export", _gbk_csv, "聊天记录.csv", "", ["UTF-8"]),
    ("chat_export", lambda: "12:01 Zhang: <Media omitted>\n12:02 Shop: ok\n".encode(), "chat.txt", "", ["<"]),
    ("photo", _heic, "IMG_0420.HEIC", "", ["HEIC", "JPEG"]),
    ("video", _mov, "IMG_0421.MOV", "", ["MP4"]),
    ("document", _encrypted, "合同.pdf", "", ["密码"]),
    ("photo", lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 200, "坏图.jpg", "", ["损坏"]),
    ("photo", lambda: b"", "empty.jpg", "", ["空"]),
    ("photo", fresh_png, "../../x.png", "", ["文件名"]),
    ("photo", fresh_png, "a.png", "x" * 1200, ["说明", "1000"]),
], ids=["kind-mismatch", "gbk-csv", "angle-brackets-in-text", "heic", "mov", "encrypted-pdf", "damaged-jpeg",
        "empty", "climbing-name", "long-description"])
def test_a_refused_page_upload_says_why_in_a_chinese_sentence(app, client, page_case, kind, data, filename,
                                                             description, says):
    _, action, token = _form(client, page_case)
    before = everything(app)
    response = post(client, action, [("csrf_token", token), ("kind", kind), ("description", description),
                                     ("file", (data(), filename))], {"Referer": f"/cases/{page_case.id}"})
    assert response.status_code == 302
    message = _flash(client, response)
    assert not re.search(r"\b(file|filename|description|kind|field|photos)\s*:", message), message
    assert "请检查输入" not in message and "不支持该文件类型" not in message, message
    assert all(word in message for word in says), message
    assert everything(app) == before


def test_a_page_upload_names_the_file_it_stored_not_its_hash(client, page_case):
    _, action, token = _form(client, page_case)
    response = post(client, action, [("csrf_token", token), ("kind", "photo"), ("description", ""),
                                     ("file", (fresh_png(), "破损.png"))])
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    message = re.search(r'<div class="flash success">(.*?)</div>', html, re.S).group(1)
    assert "破损.png" in message and "照片" in message, message


def test_the_api_keeps_its_codes_and_details_for_those_refusals(client, case_setup):  # noqa: F811
    case_id, _, _, b, _ = case_setup
    response = post(client, f"/api/v1/cases/{case_id}/evidence", [("kind", "chat_export"),
                                                                  ("file", (_gbk_csv(), "聊天记录.csv"))], b)
    error = assert_error(response, 415, "unsupported_type")
    assert error["details"]["file"] == "type not accepted" and "text/csv" in error["details"]["accepted"]
    response = post(client, f"/api/v1/cases/{case_id}/evidence", [("kind", "photo"),
                                                                  ("file", (fresh_png(), "../x.png"))], b)
    assert assert_error(response, 422, "invalid")["details"] == {"filename": "path"}
    response = post(client, f"/api/v1/cases/{case_id}/evidence", [("kind", "photo"), ("file", (b"", "e.png"))], b)
    assert assert_error(response, 422, "invalid")["details"] == {"file": "The file is empty."}
