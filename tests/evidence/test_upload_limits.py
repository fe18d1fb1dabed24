"""Uploads through the API and the case page that the streaming parser refuses (issue 11, findings 3 and 7):
NUL and unsafe file names are a 4xx, the page's CSRF token travels in the form body before the file, and
every refusal leaves no file, no temporary file and no row (run with --db=postgres too)."""
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
    assert "请检查输入：description" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert everything(app) == before
