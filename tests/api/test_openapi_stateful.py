"""Schemathesis with every check it has, statefully: the OpenAPI links of the document chain the
operations (orders → order → open a case → the case, its actions, events, audit, messages and
evidence → the evidence's content), and a state machine walks them as a buyer, a seller and a
mediator. Zero failures: no 5xx, every answer as documented (status, content type, headers,
body), schema-valid requests accepted and schema-invalid ones refused, authentication never
ignored, a 405 with its Allow header, nothing reachable after a delete.

Checks and what this API makes of them, where a check cannot see the whole truth, are set per
operation in schemathesis.toml (one reason each); max_response_time is left out on purpose: a
timed assertion is not a test (the figures are in the report)."""
import io

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from app.auth.services import issue_token
from app.extensions import db

from ..conftest import ROOT
from ..factories import make_order, make_product, make_user
from .helpers import assert_error

DOCUMENT = "/api/v1/openapi.json"
CONFIG = ROOT / "schemathesis.toml"


def all_checks():
    load_all_checks()
    return [c for c in CHECKS.get_all() if not isinstance(c, type)]


def load_schema(app):
    return schemathesis.openapi.from_wsgi(DOCUMENT, app, config=SchemathesisConfig.from_path(str(CONFIG)))


# ---------------------------------------------------------------- what the checks found

@pytest.mark.parametrize("path, method, allowed", [
    ("/api/v1/cases", "DELETE", {"GET"}),
    ("/api/v1/auth/token", "PUT", {"POST", "DELETE"}),
    ("/api/v1/cases/1/actions/withdraw", "GET", {"POST"}),
])
def test_a_405_names_the_allowed_methods(client, path, method, allowed):
    """RFC 9110 §15.5.6: a 405 carries Allow (Schemathesis' unsupported_method check)."""
    response = client.open(path, method=method)
    assert_error(response, 405, "method_not_allowed")
    assert {m.strip() for m in response.headers["Allow"].split(",")} - {"HEAD", "OPTIONS"} == allowed


def test_a_405_page_names_the_allowed_methods_too(client):
    response = client.post("/workflows")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


def test_a_case_about_some_items_of_the_order_is_accepted(app, ctx, client):
    """The document's NewCase has item_ids (and the service takes them): a schema-valid request
    (positive_data_acceptance) was refused as an unknown field."""
    order, buyer, _ = make_order(state="delivered", price_fen=5_000)
    order_id, item_id = order.id, order.items[0].id
    headers = {"Authorization": f"Bearer {issue_token(buyer)}"}
    db.session.remove()
    response = client.post(f"/api/v1/orders/{order_id}/cases", headers=headers, json={
        "kind": "refund_only", "reason": "quality", "amount_fen": 1_000, "item_ids": [item_id]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["item_ids"] == [item_id]


def test_a_whole_number_written_with_a_fraction_is_an_integer(app, ctx, client):
    """JSON Schema's integer is any number with a zero fractional part: 1000.0 is schema-valid for
    amount_fen and was refused as "must be an integer" (positive_data_acceptance); 1000.5 is not."""
    order, buyer, _ = make_order(state="delivered", price_fen=5_000)
    order_id, headers = order.id, {"Authorization": f"Bearer {issue_token(buyer)}"}
    db.session.remove()
    body = {"kind": "refund_only", "reason": "quality", "amount_fen": 1000.5}
    assert_error(client.post(f"/api/v1/orders/{order_id}/cases", headers=headers, json=body), 422, "invalid")
    response = client.post(f"/api/v1/orders/{order_id}/cases", headers=headers, json={**body, "amount_fen": 1000.0})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount_fen"] == 1000 and isinstance(response.get_json()["amount_fen"], int)


@pytest.mark.parametrize("path, body", [
    ("/api/v1/auth/token", {"username": "nobody", "password": "x", "remember": True}),
    ("/api/v1/cases/{case}/messages", {"body": "你好", "urgent": True}),
    ("/api/v1/orders/{order}/messages", {"body": "你好", "to": "seller"}),
])
def test_unknown_fields_are_refused_on_every_json_body(app, ctx, client, path, body):
    """Every JSON body is a closed object in the document (so that free extra keys, which may hold a
    NUL the app refuses, are not "schema-valid"); the app refuses an unknown key like the others do."""
    order, buyer, seller = make_order(state="delivered", price_fen=5_000)
    from app.cases.services import open_case
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000)
    path = path.format(case=case.id, order=order.id)
    headers = {"Authorization": f"Bearer {issue_token(buyer)}"}
    db.session.remove()
    error = assert_error(client.post(path, headers=headers, json=body), 422, "invalid")
    assert set(error["details"]) == set(body) - {"username", "password", "body"}


@pytest.mark.parametrize("request_", [
    ("GET", "/api/v1/cases?phase=&state=", None),  # an empty filter is not one of the enum's values
    ("GET", "/api/v1/cases?state=", None),
    ("POST", "/api/v1/cases/{case}/messages", {"body": "见附件", "evidence_ids": {}}),  # not an array
    ("POST", "/api/v1/cases/{case}/messages", {"body": "见附件", "evidence_ids": None}),
])
def test_what_the_cli_run_found_is_refused(app, ctx, client, request_):
    """`schemathesis run --checks all` against `flask run` (negative_data_rejection): schema-violating
    requests the app answered 200/201."""
    method, path, body = request_
    order, buyer, _ = make_order(state="delivered", price_fen=5_000)
    from app.cases.services import open_case
    case_id = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000).id
    headers = {"Authorization": f"Bearer {issue_token(buyer)}"}
    db.session.remove()
    response = client.open(path.format(case=case_id), method=method, headers=headers, json=body)
    assert_error(response, 422, "invalid")


def test_a_message_of_only_blank_characters_is_outside_the_document(client):
    """The app refuses a message that is blank once stripped ("\x1f" is whitespace to Python); the
    document says so, so positive_data_acceptance does not send one as valid."""
    import re

    doc = client.get(DOCUMENT).get_json()["components"]["schemas"]
    for name in ("NewMessage", "NewOrderMessage"):
        pattern = re.compile(doc[name]["properties"]["body"]["pattern"])
        assert pattern.search("见附件 ") and not any(pattern.search(b) for b in ("\x1f", " \t\n", "a\x00b"))


# ---------------------------------------------------------------- the stateful run

STEPS, SCENARIOS = 10, 50


@pytest.mark.parametrize("role", ["buyer", "seller", "mediator"])
def test_schemathesis_statefully_with_every_check_finds_nothing(app, ctx, role):
    from app.auth.models import User

    from .test_openapi import _world

    schema = load_schema(app)
    assert {check.__name__ for check in all_checks()} >= {
        "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
        "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance",
        "missing_required_header", "unsupported_method", "allow_header_conformance", "use_after_free",
        "ensure_resource_availability", "ignored_auth"}
    calls = []

    class Machine(schema.as_state_machine()):
        def __init__(self):
            # every scenario starts from a world of its own: what an earlier scenario changed (a case opened, the
            # buyer's limit of listing complaints reached) would make the same steps answer differently, and
            # Hypothesis refuses a run whose replayed steps behave differently (FlakyStrategyDefinition)
            super().__init__()
            self.user = db.session.get(User, _world(app)[role])
            self.token = issue_token(self.user)

        def get_call_kwargs(self, case):
            # DELETE /auth/token revokes the token it is sent with: give it its own
            own = issue_token(self.user) if case.operation.method.upper() == "DELETE" else self.token
            return {"headers": {"Authorization": f"Bearer {own}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # the token as the CLI's -H sends it: explicit, so ignored_auth probes without it and with a wrong one
            case.validate_response(response, headers=kwargs["headers"], transport_kwargs=kwargs,
                                   recorder=getattr(self, "recorder", None))

        def after_call(self, response, case):
            calls.append((case.operation.label, response.status_code))
            super().after_call(response, case)

        def teardown(self):
            db.session.remove()

    Machine.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, derandomize=True,
                                  database=None, deadline=None, suppress_health_check=list(HealthCheck),
                                  phases=[Phase.generate]))
    # the links were followed: real ids from earlier answers reached the operations on one object
    reached = {label for label, status in calls if status < 300}
    assert "GET /cases" in reached and len({label for label, _ in calls}) >= 10, sorted(set(calls))
    # (which ones varies with the database's ids: the stateless run asserts that every read answers 200)
    assert {label for label in reached if "{" in label}, sorted(set(calls))
