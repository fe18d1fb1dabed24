"""The authorization matrix (issue 11, point 10): every route of `app.url_map`, each method, as each role,
on an object of its own world and on another's, against the status in ONE table (EXPECTED).

- A route without a row, or a row without a route, fails `test_every_route_has_a_row`.
- Objects: "own" is world A's (buyer A's order and case in shop S, assigned to mediator M, with evidence,
  messages, a listing and a return address); "other" is world X's, which none of the roles below takes part
  in. Roles: anonymous, owner buyer (A), other buyer, own shop's seller (S), other seller, assigned mediator
  (M), other mediator, admin. Pages are visited with a logged-in session, the API with bearer tokens.
- POSTs send a valid-looking request whose success changes nothing the matrix reads (a stale version, a case
  already open, an empty field): a role let through gets the service's answer (302 back to the page with a
  message, 409, 422 …), a role kept out gets 401/403/404.
- Every 404 on an object is the same (status and body) as the 404 for an id that does not exist, and an
  anonymous visitor is sent to /login (pages) or gets 401 (API).
"""
import difflib
import io
import re
from datetime import timedelta

import pytest
from werkzeug.routing import BuildError

from app.admin.services import save_team
from app.auth.services import issue_token
from app.cases.services import file_complaint, open_case, perform_action
from app.catalog.services import save_return_address
from app.chat.services import post_case_message, post_order_message
from app.execution.services import tasks_of
from app.timeutil import utcnow

from .factories import PASSWORD, make_order, make_product, make_user

ROLES = ("anon", "buyer", "other_buyer", "seller", "other_seller", "mediator", "other_mediator", "admin")
LOGIN = "login"  # a page sends an anonymous visitor to /login?next=…
MISSING_ID = 987_654


def own(status):
    """The role reaches world A's object (status) but not world X's (404)."""
    return (status, 404)


# One row per (method, endpoint); a cell is one status for both objects, or (own object, other object).
# Routes without an object in their URL or body have one status per role.
EXPECTED = {
    # method, endpoint                          anon   buyer     o.buyer  seller    o.seller  mediator  o.med  admin
    ("GET", "auth.index"):                     (LOGIN, 302,      302,     302,      302,      302,      302,   302),
    ("GET", "auth.login"):                     (200,   200,      200,     200,      200,      200,      200,   200),
    ("POST", "auth.login"):                    (200,   200,      200,     200,      200,      200,      200,   200),
    ("POST", "auth.logout"):                   (LOGIN, 302,      302,     302,      302,      302,      302,   302),
    ("GET", "auth.set_language"):              (302,   302,      302,     302,      302,      302,      302,   302),
    ("GET", "auth.password"):                  (LOGIN, 200,      200,     200,      200,      200,      200,   200),
    ("POST", "auth.password"):                 (LOGIN, 200,      200,     200,      200,      200,      200,   200),
    ("GET", "static"):                         (200,   200,      200,     200,      200,      200,      200,   200),
    ("GET", "rulebook.index"):                 (LOGIN, 200,      200,     200,      200,      200,      200,   200),
    ("GET", "orders.my_orders"):               (LOGIN, 200,      200,     403,      403,      403,      403,   200),
    ("GET", "orders.shop_orders"):             (LOGIN, 403,      403,     200,      200,      403,      403,   403),
    ("GET", "orders.detail"):                  (LOGIN, own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("POST", "orders.action"):                 (LOGIN, own(302), 404,     own(302), 404,      403,      403,   403),
    ("POST", "cases.create"):                  (LOGIN, own(422), 404,     403,      403,      403,      403,   403),
    ("GET", "cases.complain_order"):           (LOGIN, own(200), 404,     403,      403,      403,      403,   403),
    ("POST", "cases.complain_order"):          (LOGIN, own(409), 404,     403,      403,      403,      403,   403),
    ("POST", "cases.order_message"):           (LOGIN, own(302), 404,     own(302), 404,      403,      403,   403),
    ("GET", "cases.complain_listing"):         (LOGIN, 200,      200,     403,      403,      403,      403,   403),
    ("POST", "cases.complain_listing"):        (LOGIN, 422,      422,     403,      403,      403,      403,   403),
    ("GET", "cases.index"):                    (LOGIN, 200,      200,     200,      200,      200,      200,   200),
    ("GET", "cases.queue"):                    (LOGIN, 403,      403,     403,      403,      200,      200,   200),
    ("GET", "cases.export"):                   (LOGIN, 403,      403,     403,      403,      200,      200,   200),
    ("GET", "cases.inbox"):                    (LOGIN, 403,      403,     200,      200,      403,      403,   403),
    ("GET", "cases.detail"):                   (LOGIN, own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("POST", "cases.action"):                  (LOGIN, own(302), 404,     own(302), 404,      own(302), 404,   302),
    ("POST", "cases.post_message"):            (LOGIN, own(302), 404,     own(302), 404,      own(302), 404,   403),
    ("POST", "cases.upload"):                  (LOGIN, own(302), 404,     own(302), 404,      own(302), 404,   403),
    ("GET", "cases.evidence_content"):         (LOGIN, own(200), 404,     own(200), 404,      own(200), 404,   404),
    ("GET", "reports.case_report_page"):       (LOGIN, own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("GET", "overview.index"):                 (LOGIN, 403,      403,     403,      403,      200,      200,   200),
    ("GET", "overview.analysis_page"):         (LOGIN, 403,      403,     403,      403,      200,      200,   200),
    ("GET", "overview.analysis_csv"):          (LOGIN, 403,      403,     403,      403,      200,      200,   200),
    ("GET", "catalog.return_addresses_page"):  (LOGIN, 403,      403,     200,      200,      403,      403,   403),
    ("POST", "catalog.return_addresses_page"): (LOGIN, 403,      403,     422,      422,      403,      403,   403),
    ("GET", "catalog.edit_return_address"):    (LOGIN, 403,      403,     own(200), 404,      403,      403,   403),
    ("POST", "catalog.edit_return_address"):   (LOGIN, 403,      403,     own(422), 404,      403,      403,   403),
    ("GET", "metrics.my_service"):             (LOGIN, 403,      403,     200,      200,      403,      403,   403),
    ("GET", "metrics.shop_service"):           (LOGIN, 404,      404,     own(200), 404,      200,      200,   200),
    ("POST", "metrics.rate"):                  (LOGIN, own(409), 404,     own(403), 404,      own(403), 404,   403),
    # the admin console (app/admin): admins only
    ("GET", "admin.index"):                    (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("GET", "admin.users"):                    (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("POST", "admin.users"):                   (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("GET", "admin.user"):                     (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("POST", "admin.set_active"):              (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("POST", "admin.reset_password"):          (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("GET", "admin.teams"):                    (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("POST", "admin.teams"):                   (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("GET", "admin.team"):                     (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("POST", "admin.team"):                    (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("POST", "admin.delete_team"):             (LOGIN, 403,      403,     403,      403,      403,      403,   302),
    ("GET", "admin.rules"):                    (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("GET", "admin.rule"):                     (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("POST", "admin.rule"):                    (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("POST", "admin.reset_rule"):              (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("GET", "admin.deposits"):                 (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("GET", "admin.shop"):                     (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("POST", "admin.set_deposit"):             (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("POST", "admin.top_up"):                  (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("GET", "admin.tasks"):                    (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("POST", "admin.retry_task"):              (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("GET", "admin.audit"):                    (LOGIN, 403,      403,     403,      403,      403,      403,   200),
    ("GET", "catalog.listings_page"):          (LOGIN, 403,      403,     200,      200,      403,      403,   403),
    ("POST", "catalog.listings_page"):         (LOGIN, 403,      403,     422,      422,      403,      403,   403),
    ("POST", "catalog.listing_status"):        (LOGIN, 403,      403,     own(302), 404,      403,      403,   403),
    ("GET", "catalog.shops"):                  (LOGIN, 200,      200,     403,      403,      200,      200,   200),
    ("GET", "catalog.shop"):                   (LOGIN, 200,      200,     403,      403,      200,      200,   200),
    ("POST", "orders.create"):                 (LOGIN, 302,      302,     403,      403,      403,      403,   403),
    ("GET", "penalties.standing"):             (LOGIN, 403,      403,     own(200), 404,      200,      200,   200),
    ("POST", "penalties.lift"):                (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    ("GET", "penalties.penalised"):            (LOGIN, 403,      403,     403,      403,      200,      200,   200),
    # buyer credit: mediators who see a case of the buyer, admins; the flag is the admin's
    ("GET", "credit.buyer_credit_page"):       (LOGIN, 403,      403,     403,      403,      own(200), 404,   200),
    ("POST", "credit.set_flag_page"):          (LOGIN, 403,      403,     403,      403,      403,      403,   422),
    # the API: bearer tokens; anonymous gets 401
    ("GET", "api_v1.openapi_document"):        (200,   200,      200,     200,      200,      200,      200,   200),
    ("GET", "api_v1.analysis_reasons"):        (401,   403,      403,     403,      403,      200,      200,   200),
    ("POST", "api_v1.create_token"):           (422,   422,      422,     422,      422,      422,      422,   422),
    ("DELETE", "api_v1.delete_token"):         (401,   204,      204,     204,      204,      204,      204,   204),
    ("GET", "api_v1.list_orders"):             (401,   200,      200,     200,      200,      200,      200,   200),
    ("POST", "api_v1.place_order"):            (401,   422,      422,     403,      403,      403,      403,   403),
    ("POST", "api_v1.create_listing"):         (401,   403,      403,     422,      422,      403,      403,   403),
    ("GET", "api_v1.show_order"):              (401,   own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("POST", "api_v1.create_case"):            (401,   own(409), 404,     404,      404,      404,      404,   404),
    ("GET", "api_v1.list_order_messages"):     (401,   own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("POST", "api_v1.create_order_message"):   (401,   own(201), 404,     own(201), 404,      own(403), 404,   403),
    ("POST", "api_v1.create_complaint"):       (401,   own(409), 404,     404,      404,      404,      404,   404),
    ("GET", "api_v1.list_cases"):              (401,   200,      200,     200,      200,      200,      200,   200),
    ("GET", "api_v1.export_cases"):            (401,   403,      403,     403,      403,      200,      200,   200),
    ("GET", "api_v1.show_case"):               (401,   own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("POST", "api_v1.case_action"):            (401,   own(409), 404,     own(409), 404,      own(422), 404,   409),
    ("GET", "api_v1.case_audit"):              (401,   own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("GET", "api_v1.case_report_pdf"):         (401,   own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("GET", "api_v1.case_events"):             (401,   own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("GET", "api_v1.case_messages"):           (401,   own(200), 404,     own(200), 404,      own(200), 404,   200),
    ("POST", "api_v1.create_message"):         (401,   own(201), 404,     own(201), 404,      own(201), 404,   403),
    ("GET", "api_v1.list_evidence"):           (401,   own(200), 404,     own(200), 404,      own(200), 404,   403),
    ("POST", "api_v1.upload_evidence"):        (401,   own(422), 404,     own(422), 404,      own(422), 404,   403),
    ("GET", "api_v1.evidence_content"):        (401,   own(200), 404,     own(200), 404,      own(200), 404,   404),
    ("GET", "api_v1.shop_metrics_view"):       (401,   404,      404,     own(200), 404,      200,      200,   200),
    ("POST", "api_v1.rate_case_view"):         (401,   own(409), 404,     own(403), 404,      own(403), 404,   403),
    ("GET", "api_v1.buyer_credit"):            (401,   403,      403,     403,      403,      own(200), 404,   200),
    ("POST", "api_v1.flag_buyer"):             (401,   403,      403,     403,      403,      403,      403,   422),
}

# How each route is called: the URL's non-id values and the body ("{order}" etc.: the object's id). The ids
# in the URL (order_id, case_id, evidence_id, listing_id, address_id) come from the world under test.
CALLS = {
    ("GET", "auth.set_language"): {"code": "zh_CN"},
    ("GET", "static"): {"filename": "app.css"},
    ("POST", "auth.login"): {"data": {"username": "", "password": ""}},
    ("POST", "auth.password"): {"data": {"current_password": "", "new_password": "", "repeat_password": ""}},
    ("POST", "orders.action"): {"trigger": "ship", "data": {"carrier": "sf", "tracking_no": "SF99"}},
    ("POST", "cases.create"): {"data": {"kind": "refund_only", "reason": "quality", "amount": "1"}},
    ("POST", "cases.complain_order"): {"data": {"complaint-type": "quality", "complaint-description": "质量"}},
    ("POST", "cases.order_message"): {"data": {"chat-body": "你好"}},
    ("POST", "cases.complain_listing"): {"data": {"complaint-type": "", "complaint-description": "x"}},
    ("POST", "cases.action"): {"trigger": "withdraw", "data": {"withdraw-expected_version": "1",
                                                               "withdraw-confirm": "y"}},
    ("POST", "cases.post_message"): {"data": {"body": "你好"}},
    ("POST", "cases.upload"): {"data": {}},
    ("POST", "catalog.return_addresses_page"): {"data": {"address-contact": ""}},
    ("POST", "catalog.edit_return_address"): {"data": {"address-contact": ""}},
    ("POST", "catalog.listings_page"): {"data": {"listing-title": ""}},
    ("POST", "catalog.listing_status"): {"action": "on_sale"},  # already on sale: nothing changes
    ("POST", "orders.create"): {"data": {"buy-listing_id": "{listing}", "buy-quantity": "0", "buy-address": ""}},
    ("POST", "penalties.lift"): {"what": "restriction", "data": {"lift-reason": ""}},
    ("POST", "api_v1.create_token"): {"json": {}},
    ("POST", "api_v1.place_order"): {"json": {"items": [], "address": "杭州"}},
    ("POST", "api_v1.create_listing"): {"json": {"title": "", "category": "home", "price_fen": 100}},
    ("POST", "api_v1.create_case"): {"json": {"kind": "refund_only", "reason": "quality", "amount_fen": 100}},
    ("POST", "api_v1.create_order_message"): {"json": {"body": "你好"}},
    ("POST", "api_v1.create_complaint"): {"json": {"order_id": "{order}", "type": "quality"}},
    ("POST", "api_v1.case_action"): {"name": "request_evidence", "json": {}},  # the mediator's, without its fields
    ("POST", "api_v1.create_message"): {"json": {"body": "你好"}},
    ("POST", "api_v1.upload_evidence"): {"data": {}},
    ("POST", "metrics.rate"): {"data": {"rating-score": "5"}},  # the case is open: 409 for its buyer
    ("POST", "api_v1.rate_case_view"): {"json": {"score": 5}},
    # the admin console: an empty reason (every admin write needs one) changes nothing
    ("POST", "admin.users"): {"data": {"user-username": "", "user-reason": ""}},
    ("POST", "admin.set_active"): {"data": {"active": "0", "active-reason": ""}},
    ("POST", "admin.reset_password"): {"data": {"reset-reason": ""}},
    ("POST", "admin.teams"): {"data": {"team-name": "", "team-reason": ""}},
    ("POST", "admin.team"): {"data": {"team-name": "", "team-reason": ""}},
    ("POST", "admin.delete_team"): {"data": {"delete-reason": ""}},
    ("GET", "admin.rule"): {"key": "mediation_queue_hours"},
    ("POST", "admin.rule"): {"key": "mediation_queue_hours", "data": {"rule-value": "1", "rule-reason": ""}},
    ("POST", "admin.reset_rule"): {"key": "mediation_queue_hours", "data": {"reset-reason": ""}},
    ("POST", "admin.set_deposit"): {"data": {"deposit-amount": "1", "deposit-reason": ""}},
    ("POST", "admin.top_up"): {"data": {"topup-amount": "1", "topup-reason": ""}},
    ("POST", "admin.retry_task"): {"data": {}},
    ("POST", "credit.set_flag_page"): {"data": {"flag-flag": "1", "flag-reason": ""}},  # no reason: 422
    ("POST", "api_v1.flag_buyer"): {"json": {"flagged": True}},  # no reason: 422
}
LAST = {("POST", "auth.logout"), ("DELETE", "api_v1.delete_token")}  # they end the role's session or token
ID_ARGS = {"order_id": "order", "case_id": "case", "evidence_id": "evidence", "listing_id": "listing",
           "address_id": "address", "user_id": "user", "shop_id": "shop", "team_id": "team", "task_id": "task",
           "buyer_id": "buyer_id"}


def routes(app):
    """{(method, endpoint): rule} of the url_map (HEAD and OPTIONS are Flask's own)."""
    return {(method, rule.endpoint): rule for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}


def test_every_route_has_a_row(app):
    served = set(routes(app))
    assert sorted(served - set(EXPECTED)) == [], "routes without a row in EXPECTED"
    assert sorted(set(EXPECTED) - served) == [], "rows of EXPECTED without a route"
    assert set(CALLS) <= served
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


def _world(label, now):
    """A buyer's order in a shop with a complaint assigned to a mediator, evidence, messages, a listing and
    the shop's return address."""
    order, buyer, seller = make_order(state="delivered", now=now - timedelta(days=2))
    mediator = make_user("mediator")
    settled = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=100, now=now)
    perform_action(settled.id, "agree", actor=seller, now=now)  # closed before any mediator saw the order
    case = file_complaint(actor=buyer, order_id=order.id, type="quality", description=f"{label} 质量问题", now=now)
    perform_action(case.id, "respond", actor=seller, data={"statement": "质量没问题"}, now=now)
    perform_action(case.id, "assign", actor=mediator, now=now)
    post_case_message(case.id, actor=buyer, body=f"{label} 消息")
    post_order_message(order.id, actor=buyer, body=f"{label} 订单消息")
    address = save_return_address(actor=seller, contact="王", phone="13800000000", address="杭州")
    admin = make_user("admin")
    team = save_team(actor=admin, name=f"{label} 组", categories=["toys"], member_ids=[], reason="矩阵", now=now)
    (task,) = tasks_of(settled.id)
    return {"order": order.id, "case": case.id, "listing": make_product(seller.shop).id, "address": address.id,
            "user": buyer.id, "buyer_id": buyer.id, "shop": seller.shop_id, "team": team.id, "task": task.id,
            "buyer": buyer, "seller": seller, "mediator": mediator,
            "numbers": {"orders.detail": order.number, "cases.detail": case.number, "settled": settled.number}}


def _upload_evidence(app, world):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 200, 10)).save(buf, "PNG")
    response = app.test_client().post(
        f"/api/v1/cases/{world['case']}/evidence", headers=_bearer(issue_token(world["buyer"])),
        content_type="multipart/form-data", data={"file": (io.BytesIO(buf.getvalue()), "p.png"), "kind": "photo"})
    assert response.status_code == 201, response.get_data(as_text=True)
    world["evidence"] = response.get_json()["id"]


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def setup(app):
    """The two worlds, a logged-in page client and a bearer token per role. Built in an application context
    of its own, then left: the matrix's requests must not share one (Flask-Login keeps the user in `g`)."""
    from app.extensions import db
    with app.test_request_context():
        now = utcnow() - timedelta(hours=1)
        worlds = {"own": _world("A", now), "other": _world("X", now)}
        for world in worlds.values():
            _upload_evidence(app, world)
        a = worlds["own"]
        users = {"buyer": a["buyer"], "other_buyer": make_user("buyer"), "seller": a["seller"],
                 "other_seller": make_user("seller"), "mediator": a["mediator"],
                 "other_mediator": make_user("mediator"), "admin": make_user("admin")}
        tokens = {"anon": None, **{role: issue_token(user) for role, user in users.items()}}
        usernames = {role: user.username for role, user in users.items()}
        db.session.remove()
    worlds["missing"] = dict.fromkeys(ID_ARGS.values(), MISSING_ID)
    clients = {"anon": app.test_client()}
    for role, username in usernames.items():
        clients[role] = app.test_client()
        response = clients[role].post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
    return worlds, clients, tokens


def _call(app, key, rule, world, client, token):
    """Send the route's request (CALLS) for the objects of `world`: a page with the role's session, the API
    with its token."""
    method, endpoint = key
    spec = dict(CALLS.get(key, {}))
    values = {arg: world[ID_ARGS[arg]] for arg in rule.arguments if arg in ID_ARGS}
    values.update({arg: spec.pop(arg) for arg in rule.arguments if arg in spec})
    try:
        path = app.url_map.bind("localhost").build(endpoint, values, method=method)
    except BuildError as err:
        raise AssertionError(f"{key}: no value for a URL argument — add it to CALLS") from err
    body = {k: _fill(v, world) for k, v in spec.items()}
    headers = _bearer(token) if token and path.startswith("/api/") else {}
    if path.startswith("/api/"):  # the API: the bearer token alone, no session cookie
        client = app.test_client()
    else:
        with client.session_transaction() as session:  # a message flashed by an earlier refusal is not this answer's
            session.pop("_flashes", None)
    return client.open(path, method=method, headers=headers, **body)


def _fill(value, world):
    """CALLS' body with "{order}" … replaced by the world's ids."""
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, str) and re.fullmatch(r"\{(\w+)\}", value):
        return world[value[1:-1]]
    return value


def _has_object(key, rule):
    """Whether the request names an object (in its URL or body): then it is tried on both worlds."""
    return any(arg in ID_ARGS for arg in rule.arguments) or re.search(r"\{\w+\}", repr(CALLS.get(key, {})))


def _body(response):
    """The body, without what echoes the URL (the language switch's `next`) or changes per response."""
    body = response.get_data().decode("utf-8", "replace").replace(response.request.path, "<path>")
    body = re.sub(r'(name="csrf_token" value=)"[^"]*"', r"\1", body)  # signed with the second it was made
    return re.sub(r'nonce="[^"]*"', "", body)


def test_authorization_matrix(app, setup):
    worlds, clients, tokens = setup
    served = routes(app)
    failures, counts, cells = [], {}, 0
    for key in sorted(EXPECTED, key=lambda k: (k in LAST, k[0] != "GET", k)):
        rule, row = served[key], EXPECTED[key]
        objects = ("own", "other") if _has_object(key, rule) else ("own",)
        for role, cell in zip(ROLES, row):
            for i, obj in enumerate(objects):
                expected = cell[i] if isinstance(cell, tuple) else cell
                response = _call(app, key, rule, worlds[obj], clients[role], tokens[role])
                cells += 1
                got = _outcome(response, expected)
                counts[got] = counts.get(got, 0) + 1
                if got != expected:
                    failures.append(f"{key} {role} {obj}: expected {expected}, got {response.status_code} "
                                    f"{response.headers.get('Location', '')} {_body(response)[:160]!r}")
                elif response.status_code == 200:
                    failures += [f"{key} {role} {obj}: shows {number}, which {role} may not see"
                                 for number in _hidden_numbers(worlds, role) if number in _body(response)]
                elif response.status_code == 404:
                    missing = _call(app, key, rule, worlds["missing"], clients[role], tokens[role])
                    if (missing.status_code, _body(missing)) != (404, _body(response)):
                        diff = difflib.unified_diff(_body(response).splitlines(), _body(missing).splitlines(), n=0)
                        failures.append(f"{key} {role} {obj}: its 404 differs from a missing id's: "
                                        + " | ".join(list(diff)[2:6]))
    print(f"\nauthorization matrix: {len(EXPECTED)} routes x {len(ROLES)} roles, {cells} cells: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=str)))
    assert failures == [], "\n".join(failures)


SETTLED_SEEN_BY = ("buyer", "seller", "admin")  # a request settled between the parties: not the mediator's


def _hidden_numbers(worlds, role):
    """The order and case numbers of the worlds whose order or case page is a 404 for `role`, and the settled
    request's number of world A for anyone but its parties and the admin (finding 9: a mediator saw it)."""
    hidden = []
    for endpoint in ("orders.detail", "cases.detail"):
        cell = EXPECTED[("GET", endpoint)][ROLES.index(role)]
        for i, obj in enumerate(("own", "other")):
            if (cell[i] if isinstance(cell, tuple) else cell) != 200:
                hidden.append(worlds[obj]["numbers"][endpoint])
    return hidden + ([] if role in SETTLED_SEEN_BY else [worlds["own"]["numbers"]["settled"]])


def _outcome(response, expected):
    """The status, or LOGIN for a page's redirect to the login page."""
    if response.status_code == 302 and expected == LOGIN:
        return LOGIN if response.headers["Location"].startswith("/login") else 302
    return response.status_code
