"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document that matches the url_map, and
Schemathesis over it against the app in-process, as a buyer, a seller and a mediator, with every
check it has (schemathesis.toml; the stateful run is in test_openapi_stateful.py): no 5xx, every
status code, content type, header and body the app answers is one the document describes,
schema-valid data accepted, schema-invalid data refused, authentication never ignored."""
import io
import re
from types import SimpleNamespace
from collections import defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from app.auth.models import User
from app.auth.services import issue_token
from app.cases.services import file_complaint, open_case, perform_action
from app.extensions import db
from workflows.cases import PHASES as CASE_PHASES
from workflows.fields import FIELDS
from workflows.rules import COMPLAINT_TYPES, REMEDIES
from workflows.tasks import KINDS as TASK_KINDS

from ..factories import make_order, make_product, make_user
from .test_openapi_stateful import all_checks, load_schema

DOCUMENT = "/api/v1/openapi.json"
EXAMPLES_PER_OPERATION = 12


def flask_paths(app):
    """{(path as OpenAPI spells it, method)} of every API route but the document itself."""
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.rule != DOCUMENT:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            out |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return out


def document_paths(doc):
    base = doc["servers"][0]["url"]
    return {(base + path, method) for path, item in doc["paths"].items() for method in item
            if method in ("get", "put", "post", "delete", "patch")}


def test_the_document_is_openapi_3_1_and_describes_exactly_the_routes(app, client):
    response = client.get(DOCUMENT)  # no token needed
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    assert document_paths(doc) == flask_paths(app)
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    schema.validate()  # against the OpenAPI 3.1 meta-schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(flask_paths(app))
    # every path parameter of the url_map is declared on its operation
    for op in operations:
        declared = {p["name"] for p in op.definition.raw.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", op.path)), op.label


def test_the_enums_follow_the_rule_tables(client):
    doc = client.get(DOCUMENT).get_json()
    schemas = doc["components"]["schemas"]
    person_triggers = {tr.trigger for p in CASE_PHASES.values() for tr in p.spec.transitions
                       if set(tr.roles) - {"system"}}
    action = doc["paths"]["/cases/{case_id}/actions/{name}"]["post"]
    names = next(p for p in action["parameters"] if p["name"] == "name")["schema"]["enum"]
    assert set(names) == person_triggers and {"assign", "propose", "pay_refund"} <= set(names)
    assert not {"execute", "auto_assign", "expire", "advance"} & set(names)  # system-only triggers
    assert set(schemas["NewComplaint"]["properties"]["type"]["enum"]) == set(COMPLAINT_TYPES)
    assert schemas["Remedy"]["properties"]["type"]["enum"] == list(REMEDIES)
    assert schemas["Execution"]["properties"]["kind"]["enum"] == list(TASK_KINDS)
    assert set(schemas["ActionFields"]["properties"]) == set(FIELDS) | {"expected_version"}
    assert schemas["ActionFields"]["additionalProperties"] is False  # unknown action fields are 422
    assert "no_reason_7d" in schemas["NewCase"]["properties"]["reason"]["enum"]
    assert schemas["Case"]["properties"]["due_at"]["type"] == ["string", "null"]
    for status in ("400", "401", "404", "409", "422"):
        assert action["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}
    assert doc["paths"]["/auth/token"]["post"]["security"] == []
    assert "429" in doc["paths"]["/auth/token"]["post"]["responses"]


# ---------------------------------------------------------------- Schemathesis over the document

def _world(app):
    """A buyer, a seller and a mediator with cases in several phases: resolved (with a refund in the ledger),
    queued for mediation (with a photo and a chat export as evidence, and messages), a listing
    complaint, and an order with no case yet (and an order chat)."""
    seller = make_user("seller")
    buyer, mediator = make_user("buyer"), make_user("mediator")
    resolved_order, _, _ = make_order(buyer=buyer, seller=seller, state="delivered", price_fen=20_000)
    queued_order, _, _ = make_order(buyer=buyer, seller=seller, state="delivered", price_fen=9_000)
    fresh_order, _, _ = make_order(buyer=buyer, seller=seller, state="paid", price_fen=3_000)

    resolved = open_case(resolved_order.id, actor=buyer, kind="refund_only", reason="not_as_described",
                         amount_fen=20_000)
    perform_action(resolved.id, "counter_offer", actor=seller, data={"amount_fen": 8_000, "note": "八折"})
    perform_action(resolved.id, "accept_offer", actor=buyer)  # → execution → refund → closed/resolved

    queued = open_case(queued_order.id, actor=buyer, kind="return_refund", reason="quality", amount_fen=9_000)
    perform_action(queued.id, "refuse", actor=seller, data={"reason": "无质量问题"})
    perform_action(queued.id, "escalate", actor=buyer, data={"type": "quality", "description": "开线"})
    perform_action(queued.id, "respond", actor=seller, data={"statement": "出厂检验合格"})

    listing = make_product(seller.shop)
    complaint = file_complaint(actor=buyer, listing_id=listing.id, type="listing_violation", description="虚假宣传")
    ids = {"buyer": buyer.id, "seller": seller.id, "mediator": mediator.id,
           "cases": [resolved.id, queued.id, complaint.id],
           "orders": [resolved_order.id, queued_order.id, fresh_order.id], "listing": listing.id,
           "shop": seller.shop_id}
    client, b = app.test_client(), {"Authorization": f"Bearer {issue_token(buyer)}"}
    db.session.remove()
    evidence, queued_id, fresh_order_id = [], ids["cases"][1], ids["orders"][2]
    for name, kind, content in (("photo.png", "photo", _png()), ("chat.txt", "chat_export", "七天内补发\n".encode())):
        response = client.post(f"/api/v1/cases/{queued_id}/evidence", headers=b, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(content), name), "kind": kind, "description": name})
        assert response.status_code == 201, response.get_json()
        evidence.append(response.get_json()["id"])
    ids["evidence"] = evidence
    for path, body in ((f"/api/v1/cases/{queued_id}/messages", {"body": "见附件", "evidence_ids": evidence}),
                       (f"/api/v1/orders/{fresh_order_id}/messages", {"body": "什么时候发货？"})):
        assert client.post(path, headers=b, json=body).status_code == 201
    # the shapes Schemathesis will check are really there: a remedy, an execution with ledger entries
    resolved_json = client.get(f"/api/v1/cases/{ids['cases'][0]}", headers=b).get_json()
    assert resolved_json["remedy"] and resolved_json["executions"][0]["ledger_entries"], resolved_json
    return ids


def _png():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _strategy(operation, ids, available):
    """Mostly real ids (so the calls reach the services) and, for actions, the actions the caller
    has now; plus free generation (unknown ids, any action), positive and negative data."""
    fixed = []
    names = set(re.findall(r"{(\w+)}", operation.path))
    if names == {"case_id", "name"}:
        fixed = [{"case_id": cid, "name": name} for cid, names_ in available.items() for name in names_]
    if "case_id" in names:
        fixed += [{"case_id": cid} for cid in ids["cases"]]
    elif "order_id" in names:
        fixed = [{"order_id": oid} for oid in ids["orders"]]
    elif "evidence_id" in names:
        fixed = [{"evidence_id": eid} for eid in ids["evidence"]]
    elif "shop_id" in names:
        fixed = [{"shop_id": ids["shop"]}]
    elif "buyer_id" in names:
        fixed = [{"buyer_id": ids["buyer"]}]
    strategies = [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=p) for p in fixed]
    strategies += [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    return st.one_of(strategies)


# mediators' and admins' only: what the others get (an id past the database's range is not found first)
MEDIATORS_ONLY = {"GET /cases/export.csv": {401, 403}, "GET /analysis/reasons": {401, 403},
                  "GET /buyers/{buyer_id}/credit": {401, 403, 404}}


@pytest.mark.parametrize("role", ["buyer", "seller", "mediator"])
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(app, ctx, role):
    ids = _world(app)
    user = db.session.get(User, ids[role])
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    # DELETE /auth/token needs a token of this user: only its id, which a later session.remove() cannot expire
    user = SimpleNamespace(id=user.id)
    client = app.test_client()
    available = {cid: [a["name"] for a in client.get(f"/api/v1/cases/{cid}", headers=headers).get_json().get(
        "available_actions", [])] for cid in ids["cases"]}
    assert any(available.values())  # buyer: withdraw; seller: the resolved case's none, the queued one's…
    schema, checks = load_schema(app), all_checks()
    seen = defaultdict(set)

    operations = [result.ok() for result in schema.get_all_operations()]
    # actions last: a withdrawn or closed case answers the other operations with 409 only
    for operation in sorted(operations, key=lambda op: "/actions/" in op.path):

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink],
                  suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, ids, available))
        def run(case):
            # DELETE /auth/token revokes the token it is sent with: give it its own
            own = {"Authorization": f"Bearer {issue_token(user)}"} if operation.method.upper() == "DELETE" else headers
            response = case.call_and_validate(headers=own, checks=checks)
            seen[operation.label].add(response.status_code)

        run()
        db.session.remove()

    # the run reached the services, not only 401/404: every read answered 200 at least once, and
    # actions got past the visibility check into the workflow
    assert len(seen) == len(flask_paths(app))
    for label, statuses in seen.items():
        if label in MEDIATORS_ONLY and role != "mediator":
            assert statuses <= MEDIATORS_ONLY[label], (label, statuses)
        elif label == "GET /shops/{shop_id}/metrics" and role == "buyer":  # its sellers', mediators', admins'
            assert statuses <= {401, 404}, (label, statuses)
        elif label.startswith("GET "):
            assert 200 in statuses, (label, statuses)
    assert seen["POST /cases/{case_id}/actions/{name}"] & {200, 409}, dict(seen)


# ---------------------------------------------------------------- what Schemathesis found

HUGE = 10**20  # past every integer column (and SQLite's and PostgreSQL's bigint)
FOUND = {
    # name: (path, method, path parameters, query, body), {order} = a paid order of the buyer
    "huge page": ("/cases", "GET", {}, {"page": HUGE}, None),
    "huge case id": ("/cases/{case_id}", "GET", {"case_id": HUGE}, {}, None),
    "huge case id for evidence": ("/cases/{case_id}/evidence", "GET", {"case_id": HUGE}, {}, None),
    "huge case id in an action": ("/cases/{case_id}/actions/{name}", "POST", {"case_id": HUGE, "name": "withdraw"},
                                  {}, {}),
    "huge order id": ("/orders/{order_id}", "GET", {"order_id": HUGE}, {}, None),
    "huge order id for a case": ("/orders/{order_id}/cases", "POST", {"order_id": HUGE}, {},
                                 {"kind": "refund_only", "reason": "other", "amount_fen": 100}),
    "huge order id in a complaint": ("/complaints", "POST", {}, {}, {"order_id": HUGE, "type": "quality"}),
    "huge listing id in a complaint": ("/complaints", "POST", {}, {}, {"listing_id": HUGE, "type": "quality"}),
    "NUL in a state filter": ("/cases", "GET", {}, {"state": "requested\x00"}, None),
    "NUL in a username": ("/auth/token", "POST", {}, {}, {"username": "buyer\x00", "password": "secret-pass"}),
    "NUL in a description": ("/orders/{order_id}/cases", "POST", {"order_id": "{order}"}, {},
                             {"kind": "refund_only", "reason": "other", "amount_fen": 100, "description": "a\x00b"}),
    "NUL in an order message": ("/orders/{order_id}/messages", "POST", {"order_id": "{order}"}, {},
                                {"body": "a\x00b"}),
}


@pytest.mark.parametrize("name", list(FOUND))
def test_out_of_range_ids_and_nul_characters_get_a_documented_client_error(app, ctx, name):
    """Inputs Schemathesis produced that made the app answer 500 (or an undocumented 405): each must
    get a documented 4xx, the same on SQLite and PostgreSQL."""
    path, method, path_parameters, query, body = FOUND[name]
    order, buyer, _ = make_order(state="paid")
    headers = {"Authorization": f"Bearer {issue_token(buyer)}"}
    path_parameters = {k: order.id if v == "{order}" else v for k, v in path_parameters.items()}
    db.session.remove()
    operation = load_schema(app)[path][method]
    case = operation.Case(path_parameters=path_parameters, query=query,
                          **({"body": body, "media_type": "application/json"} if body is not None else {}))
    response = case.call_and_validate(headers=headers, checks=all_checks())
    assert 400 <= response.status_code < 500, response.text
