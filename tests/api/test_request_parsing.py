"""Request bodies the API refuses before any work: JSON nested beyond reason is a 400, never a 500
(a RecursionError in the parser or in the checks that walk the body)."""
import pytest

from ..factories import make_order
from .helpers import assert_error, token_for


@pytest.mark.parametrize("depth", [17, 1_000, 2_000])  # deeper bodies are over the 4 KiB of a login: 413
def test_deeply_nested_json_is_a_400(client, ctx, depth):
    order, buyer, _ = make_order(state="paid")
    body = '{"kind": ' + "[" * depth + "]" * depth + "}"
    for path in (f"/api/v1/orders/{order.id}/cases", "/api/v1/auth/token"):
        response = client.post(path, data=body, content_type="application/json", headers=token_for(client, buyer))
        assert_error(response, 400, "bad_request")


def test_nesting_a_request_needs_is_accepted(client, ctx):
    order, buyer, _ = make_order(state="paid")
    body = {"kind": "refund_only", "reason": "other", "amount_fen": 100, "description": "x"}
    response = client.post(f"/api/v1/orders/{order.id}/cases", json=body, headers=token_for(client, buyer))
    assert response.status_code == 201, response.get_json()


def test_unknown_fields_when_opening_a_case_or_filing_a_complaint_are_422_and_write_nothing(client, ctx):
    from app.cases.models import Case
    from app.extensions import db
    order, buyer, _ = make_order(state="delivered")
    headers = token_for(client, buyer)
    opened = client.post(f"/api/v1/orders/{order.id}/cases", headers=headers, json={
        "kind": "refund_only", "reason": "other", "amount_fen": 100, "amount_yuan": 1})
    assert assert_error(opened, 422, "invalid")["details"] == {"amount_yuan": "unknown field"}
    filed = client.post("/api/v1/complaints", headers=headers, json={"order_id": order.id, "type": "quality", "extra": 1})
    assert assert_error(filed, 422, "invalid")["details"] == {"extra": "unknown field"}
    assert db.session.query(Case).count() == 0
