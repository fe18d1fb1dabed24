"""Finding 9: every view shows a user only the cases app/auth/policy.py lets them see — the same cases the
API answers for (the listing complaint limit: tests/cases/test_listing_complaints.py)."""
from datetime import timedelta

import pytest

from app.cases.services import file_complaint, open_case, perform_action
from app.timeutil import utcnow

from ..api.helpers import token_for
from ..factories import make_order, make_user


@pytest.fixture
def order_with_two_cases(ctx):
    """One order, two cases: a refund the seller agreed to at once (closed, never seen by a mediator), then a
    complaint assigned to mediator M."""
    now = utcnow() - timedelta(hours=2)
    order, buyer, seller = make_order(state="paid", price_fen=20_000, now=now)
    mediator = make_user("mediator")
    first = open_case(order.id, actor=buyer, kind="refund_only", reason="other", amount_fen=1_234,
                      description="先退一部分", now=now)
    perform_action(first.id, "agree", actor=seller, now=now)
    second = file_complaint(actor=buyer, order_id=order.id, type="not_shipped", description="一直不发货", now=now)
    perform_action(second.id, "respond", actor=seller, data={"statement": "马上发"}, now=now)
    perform_action(second.id, "assign", actor=mediator, now=now)
    return order, buyer, mediator, first, second


def test_order_page_shows_a_mediator_only_the_cases_the_api_shows_them(client, order_with_two_cases, login_as):
    order, buyer, mediator, first, second = order_with_two_cases
    api = token_for(client, mediator)
    assert client.get(f"/api/v1/cases/{first.id}", headers=api).status_code == 404
    assert client.get(f"/api/v1/cases/{second.id}", headers=api).status_code == 200
    assert client.get(f"/api/v1/orders/{order.id}", headers=api).get_json()["open_case_id"] == second.id
    login_as(mediator)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert second.number in html
    assert first.number not in html and f"/cases/{first.id}\"" not in html
    assert "¥12.34" not in html.split('id="money-movements"')[1]  # the hidden case's refund entries


def test_the_buyer_still_sees_every_case_of_their_order(client, order_with_two_cases, login_as):
    order, buyer, mediator, first, second = order_with_two_cases
    login_as(buyer)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert first.number in html and second.number in html


def test_the_api_names_no_open_case_a_mediator_may_not_see(client, ctx):
    """An order the mediator sees through a closed case they handled: its new open case (back in negotiation,
    no mediator) is not theirs, so the order's open_case_id is null for them, as GET /cases/<id> is 404."""
    now = utcnow() - timedelta(hours=2)
    order, buyer, seller = make_order(state="paid", price_fen=20_000, now=now)
    mediator = make_user("mediator")
    handled = file_complaint(actor=buyer, order_id=order.id, type="not_shipped", description="不发货", now=now)
    perform_action(handled.id, "respond", actor=seller, data={"statement": "马上发"}, now=now)
    perform_action(handled.id, "assign", actor=mediator, now=now)
    perform_action(handled.id, "start_review", actor=mediator, now=now)
    perform_action(handled.id, "propose", actor=mediator, now=now, data={
        "remedy": "dismiss", "amount_fen": 0, "findings": "已发货", "rule": "规则", "penalties": []})
    perform_action(handled.id, "accept_proposal", actor=buyer, now=now)
    perform_action(handled.id, "accept_proposal", actor=seller, now=now)
    later = open_case(order.id, actor=buyer, kind="refund_only", reason="other", amount_fen=500, now=now)
    api = token_for(client, mediator)
    assert client.get(f"/api/v1/cases/{later.id}", headers=api).status_code == 404
    body = client.get(f"/api/v1/orders/{order.id}", headers=api).get_json()
    assert body["open_case_id"] is None
    assert client.get(f"/api/v1/orders/{order.id}", headers=token_for(client, buyer)).get_json()[
        "open_case_id"] == later.id
