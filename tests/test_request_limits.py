"""Request bodies and query strings an attacker controls, refused before any work (issue 11, finding 3):
JSON bodies are bounded per endpoint before a byte is parsed (by Content-Length, and while reading a
streamed body), every parse failure is a 4xx in the API error format, and no page number is a 500."""
import io
import json
import re

import pytest

from app.cases.models import Case, CaseMessage
from app.extensions import db

from .api.helpers import assert_error, token_for
from .factories import make_order, make_user

TOKEN = "/api/v1/auth/token"
JSON_LIMIT = 64 * 1024  # app.api.v1.JSON_LIMIT, the limit of every JSON body but a login's


class CountingStream(io.BytesIO):
    """A request body that counts the bytes the server reads from it."""
    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data

    def readinto(self, buffer):
        n = super().readinto(buffer)
        self.read_bytes += n
        return n

    def readline(self, size=-1):
        data = super().readline(size)
        self.read_bytes += len(data)
        return data


CHUNKED = {"environ_overrides": {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}}


def huge_array():
    return b"[" + b"0," * (10 * 1024 * 1024) + b"0]"  # 20 MiB, as in the finding


@pytest.fixture
def action(client, ctx):
    """An API action endpoint of a real case, with its buyer's token."""
    order, buyer, _ = make_order(state="delivered")
    headers = token_for(client, buyer)
    case = client.post(f"/api/v1/orders/{order.id}/cases", headers=headers, json={
        "kind": "refund_only", "reason": "damaged", "amount_fen": 100}).get_json()
    return f"/api/v1/cases/{case['id']}/actions/withdraw", headers


def test_the_limits_live_in_one_place_and_the_token_endpoint_takes_a_few_kib():
    from app.api.v1 import JSON_LIMIT, JSON_LIMITS
    assert JSON_LIMITS["api_v1.create_token"] == 4 * 1024 and JSON_LIMIT == 64 * 1024


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_20_mib_array_to_the_token_endpoint_is_413_after_reading_at_most_the_limit(client, ctx, chunked):
    body = CountingStream(huge_array())
    response = client.post(TOKEN, input_stream=body, content_type="application/json", **(CHUNKED if chunked else {}))
    assert_error(response, 413, "too_large")
    assert body.read_bytes <= (4 * 1024 + 1 if chunked else 0)


def test_an_action_body_over_its_limit_is_413_and_changes_nothing(client, action):
    path, headers = action
    body = json.dumps({"note": "x" * (JSON_LIMIT + 1)})
    assert_error(client.post(path, data=body, content_type="application/json", headers=headers), 413, "too_large")
    streamed = CountingStream(body.encode())
    response = client.post(path, input_stream=streamed, content_type="application/json", headers=headers,
                           **CHUNKED)
    assert_error(response, 413, "too_large")
    assert streamed.read_bytes <= JSON_LIMIT + 1
    assert db.session.query(Case).one().state == "requested"


def test_a_login_just_over_4_kib_is_413_and_an_ordinary_one_is_not(client, ctx):
    user = make_user("buyer")
    assert_error(client.post(TOKEN, json={"username": user.username, "password": "p" * 4200}), 413, "too_large")
    assert client.post(TOKEN, json={"username": user.username, "password": "secret-pass"}).status_code == 200


def test_the_longest_message_a_client_may_send_fits_even_with_escaped_chinese(client, action, app):
    path, headers = action
    case_id = re.search(r"cases/(\d+)/", path).group(1)
    body = json.dumps({"body": "退" * app.config["MESSAGE_MAX_CHARS"]})  # ensure_ascii: 6 bytes a character
    assert len(body) > 16 * 1024
    response = client.post(f"/api/v1/cases/{case_id}/messages", data=body, content_type="application/json",
                           headers=headers)
    assert response.status_code == 201, response.get_json()


BAD_BODIES = [
    pytest.param(b'{"username": "\xff\xfe"}', "application/json", 400, "bad_request", id="bad-utf8"),
    pytest.param(b'{"username": ', "application/json", 400, "bad_request", id="malformed"),
    pytest.param(b'{"username": "a", "password": "b"}', "text/plain", 400, "bad_request", id="wrong-type"),
    pytest.param(b'{"username": NaN, "password": "b"}', "application/json", 422, "invalid", id="nan"),
    pytest.param(b'{"username": ' + b"[" * 330 + b"]" * 330 + b"}", "application/json", 400, "bad_request",
                 id="330-deep"),
    pytest.param(b"[" * 3000, "application/json", 400, "bad_request", id="3000-open"),
    pytest.param(b'{"username": "\\ud800", "password": "b"}', "application/json", 422, "invalid",
                 id="lone-surrogate"),
    pytest.param(b'{"username": "a", "password": "' + b"b" * 70_000 + b'"}', "application/json", 413, "too_large",
                 id="too-big"),
]


@pytest.mark.parametrize("raw, ctype, status, code", BAD_BODIES)
def test_every_parse_failure_on_the_token_endpoint_is_a_4xx_in_the_error_format(client, ctx, raw, ctype, status,
                                                                                 code):
    assert_error(client.post(TOKEN, data=raw, content_type=ctype), status, code)


@pytest.mark.parametrize("raw, ctype, status, code", BAD_BODIES)
def test_every_parse_failure_on_an_action_is_a_4xx_and_changes_nothing(client, action, raw, ctype, status, code):
    path, headers = action
    assert_error(client.post(path, data=raw, content_type=ctype, headers=headers), status, code)
    assert db.session.query(Case).one().state == "requested"


def test_a_lone_surrogate_in_a_message_is_422_not_a_500(client, action):
    path, headers = action
    case_id = re.search(r"cases/(\d+)/", path).group(1)
    before = db.session.query(CaseMessage).count()
    response = client.post(f"/api/v1/cases/{case_id}/messages", data=b'{"body": "hi \\udc80"}',
                           content_type="application/json", headers=headers)
    assert_error(response, 422, "invalid")
    assert db.session.query(CaseMessage).count() == before


def test_an_empty_action_body_still_means_no_fields(client, action):
    path, headers = action
    assert client.post(path, headers=headers).status_code == 200


def _json_endpoints(app):
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/") and "POST" in rule.methods and not rule.rule.endswith("/evidence"))


def test_330_deep_json_is_400_on_every_json_endpoint(app, client, action):
    path, headers = action
    case_id = re.search(r"cases/(\d+)/", path).group(1)
    order_id, buyer_id = db.session.query(Case.order_id, Case.buyer_id).one()
    deep = b'{"body": ' + b"[" * 330 + b"]" * 330 + b"}"
    for rule in _json_endpoints(app):
        url = rule.replace("<int:case_id>", case_id).replace("<int:order_id>", str(order_id)).replace("<name>",
                                                                                                        "withdraw")
        url = url.replace("<int:buyer_id>", str(buyer_id))
        assert_error(client.post(url, data=deep, content_type="application/json", headers=headers), 400, "bad_request")


# every list and every GET route that takes ?page=: odd page numbers are clamped or a 422, never a 500
PAGE_VALUES = [str(10**18), "-1", "0", "abc", "9" * 5000, "1e3", "", "１"]


@pytest.mark.parametrize("role", ["buyer", "seller", "mediator", "admin"])
def test_no_page_number_on_any_get_route_is_a_500(app, client, ctx, login_as, role):
    order, buyer, seller = make_order(state="delivered")
    user = {"buyer": buyer, "seller": seller}.get(role) or make_user(role)
    login_as(user)
    headers = token_for(client, user)
    case = client.post(f"/api/v1/orders/{order.id}/cases", headers=token_for(client, buyer), json={
        "kind": "refund_only", "reason": "damaged", "amount_fen": 100}).get_json()
    ids = {"case_id": case["id"], "order_id": order.id, "evidence_id": 1, "listing_id": 1, "address_id": 1,
           "code": "en", "user_id": user.id, "buyer_id": buyer.id, "shop_id": seller.shop_id, "team_id": 1,
           "task_id": 1, "key": "mediation_queue_hours"}  # (the admin console's)
    routes = [r for r in app.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith("/static")]
    assert len(routes) > 15
    for rule in routes:
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<int:{name}>", str(ids[name])).replace(f"<{name}>", str(ids[name]))
        for value in PAGE_VALUES:
            for per_page in ("", "&per_page=" + value):
                response = client.get(f"{url}?page={value}{per_page}", headers=headers)
                assert response.status_code < 500, (url, value, per_page)
                if url.startswith("/api/") and response.status_code >= 400:
                    assert_error(response, response.status_code, response.get_json()["error"]["code"])


# Page forms (urlencoded) are parsed by Werkzeug whole, field by field, with no limit but MAX_CONTENT_LENGTH:
# found by the attack on issue 11, an anonymous 20 MB POST of "a=1&" x 5M to /login cost 15.6 s of server
# time and 735 MB of memory (and the same to /lang/en, a GET-only route: the hooks parse before the 405).
PAGE_FORM_LIMIT = 128 * 1024  # app.PAGE_FORM_LIMIT


@pytest.mark.parametrize("path", ["/login", "/lang/en", "/account/password"])
@pytest.mark.parametrize("chunked", [False, True])
def test_an_urlencoded_page_form_over_its_limit_is_413_after_reading_at_most_the_limit(client, ctx, path, chunked):
    body = CountingStream(b"a=1&" * 1_000_000)  # 4 MB, a million fields
    response = client.post(path, input_stream=body, content_type="application/x-www-form-urlencoded",
                           **(CHUNKED if chunked else {}))
    assert response.status_code == 413
    assert body.read_bytes <= PAGE_FORM_LIMIT + 64 * 1024


def test_the_longest_page_form_still_fits(client, ctx):
    """A decision's findings + rule + note (≈ 6,200 Chinese characters) percent-encoded is ≈ 56 KB."""
    from app import PAGE_FORM_LIMIT as limit
    assert limit == PAGE_FORM_LIMIT
    body = "findings=" + "中" * 5000 + "&rule=" + "中" * 200 + "&note=" + "中" * 1000
    from urllib.parse import quote
    encoded = "&".join(k + "=" + quote(v) for k, v in (p.split("=", 1) for p in body.split("&")))
    assert len(encoded.encode()) < limit
    response = client.post("/login", data=encoded, content_type="application/x-www-form-urlencoded")
    assert response.status_code != 413
