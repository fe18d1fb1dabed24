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
