"""Versioned actions (issue 9, finding 4): every case read carries its version (the `version`
field and an ETag); an action may send the version it saw (If-Match or `expected_version`)
and is refused with 409 `stale` and the current case when the case moved on; unknown action
fields are 422. Pages always send the version they rendered."""
import re

import pytest
from sqlalchemy import func, select

from app.cases.models import CaseEvent
from app.payments.models import JournalEntry
from app.extensions import db

from ..factories import make_order
from ..readers import case_of, money
from .helpers import assert_error, token_for


@pytest.fixture
def refused_then_raised(client, ctx):
    """The seed's trap: the buyer asks ¥1, the seller refuses, the buyer raises it to ¥399."""
    order, buyer, seller = make_order(state="paid", price_fen=39_900)
    b, s = token_for(client, buyer), token_for(client, seller)
    case = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "refund_only", "reason": "other", "amount_fen": 100}).get_json()
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=s)
    client.post(f"/api/v1/cases/{case['id']}/actions/refuse", headers=s, json={"reason": "已在发货途中"})
    raised = client.post(f"/api/v1/cases/{case['id']}/actions/modify", headers=b,
                         json={"amount_fen": 39_900, "reason": "全额退款"})
    assert raised.status_code == 200 and raised.get_json()["state"] == "requested"
    return order, case["id"], s, seen


def entries():
    return db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


def test_every_case_read_carries_its_version_and_etag(client, ctx):
    order, buyer, seller = make_order(state="paid")
    b = token_for(client, buyer)
    created = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "refund_only", "reason": "other", "amount_fen": 100})
    version = created.get_json()["version"]
    assert created.headers["ETag"] == f'"{version}"'
    read = client.get(f"/api/v1/cases/{created.get_json()['id']}", headers=b)
    assert (read.get_json()["version"], read.headers["ETag"]) == (version, f'"{version}"')
    listed = client.get("/api/v1/cases", headers=b).get_json()["items"][0]
    assert listed["version"] == version


def test_a_retried_agree_sent_for_the_old_amount_is_refused_as_stale(client, refused_then_raised):
    order, case_id, s, seen = refused_then_raised
    before = entries()
    response = client.post(f"/api/v1/cases/{case_id}/actions/agree", headers={**s, "If-Match": seen.headers["ETag"]})
    error = assert_error(response, 409, "stale")
    assert error["details"]["case"]["amount_fen"] == 39_900
    assert error["details"]["case"]["version"] > seen.get_json()["version"]
    assert (case_of(case_id).state, entries(), money(order.id)["refunded_fen"]) == ("requested", before, 0)


def test_expected_version_in_the_body_works_like_if_match(client, refused_then_raised):
    order, case_id, s, seen = refused_then_raised
    stale = client.post(f"/api/v1/cases/{case_id}/actions/agree", headers=s,
                        json={"expected_version": seen.get_json()["version"]})
    assert_error(stale, 409, "stale")
    current = stale.get_json()["error"]["details"]["case"]["version"]
    agreed = client.post(f"/api/v1/cases/{case_id}/actions/agree", headers=s, json={"expected_version": current})
    assert agreed.status_code == 200, agreed.get_json()
    assert agreed.headers["ETag"] == f'"{agreed.get_json()["version"]}"'
    assert money(order.id)["refunded_fen"] == 39_900  # agreed knowing the amount


def test_an_action_without_a_version_still_applies(client, refused_then_raised):
    order, case_id, s, _ = refused_then_raised
    assert client.post(f"/api/v1/cases/{case_id}/actions/agree", headers=s).status_code == 200


@pytest.mark.parametrize("headers, body, field", [
    ({}, {"expected_version": "3"}, "expected_version"),
    ({}, {"expected_version": True}, "expected_version"),
    ({}, {"expected_version": 0}, "expected_version"),
    ({"If-Match": '"1", "2"'}, None, "If-Match"),
    ({"If-Match": '"abc"'}, None, "If-Match"),
    ({"If-Match": '"\u00b2"'}, None, "If-Match"),      # a digit to str.isdigit, not to int()
    ({"If-Match": '""'}, None, "If-Match"),
    ({"If-Match": 'W/"1"'}, None, "If-Match"),          # If-Match compares strong versions
    ({"If-Match": '"99999999999"'}, None, "If-Match"),
    ({"If-Match": '"1"'}, {"expected_version": 2}, "expected_version"),  # the two disagree
    ({}, {"amount_fen": 100}, "amount_fen"),     # agree takes no fields
    ({}, {"refund_to": "someone"}, "refund_to"),
])
def test_bad_versions_and_unknown_fields_are_422_and_change_nothing(client, refused_then_raised, headers, body, field):
    order, case_id, s, _ = refused_then_raised
    version, events = case_of(case_id).version, case_of(case_id).event_count
    response = client.post(f"/api/v1/cases/{case_id}/actions/agree", headers={**s, **headers}, json=body)
    error = assert_error(response, 422, "invalid")
    assert field in error["details"]
    assert (case_of(case_id).version, case_of(case_id).event_count) == (version, events)


def test_the_page_sends_the_version_it_rendered_and_refuses_a_stale_click(client, ctx, login_as):
    order, buyer, seller = make_order(state="paid", price_fen=39_900)
    b = token_for(client, buyer)
    case = client.post(f"/api/v1/orders/{order.id}/cases", headers=b, json={
        "kind": "refund_only", "reason": "other", "amount_fen": 100}).get_json()
    login_as(seller)
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    form = re.search(r'action="/cases/\d+/actions/agree".*?</form>', page, re.S).group(0)
    version = re.search(r'name="agree-expected_version" type="hidden" value="(\d+)"', form).group(1)
    assert int(version) == case["version"]
    # meanwhile the buyer withdraws the request: the seller's page is now stale
    client.post(f"/api/v1/cases/{case['id']}/actions/withdraw", headers=b)
    response = client.post(f"/cases/{case['id']}/actions/agree",
                           data={"agree-expected_version": version},
                           headers={"Referer": f"/cases/{case['id']}"}, follow_redirects=True)
    assert "此售后单已有变化" in response.get_data(as_text=True)
    assert case_of(case["id"]).state == "withdrawn"
    assert db.session.execute(select(func.count()).select_from(CaseEvent)
                              .where(CaseEvent.trigger == "agree")).scalar_one() == 0


def test_a_page_action_without_the_version_it_rendered_is_refused(client, ctx, login_as):
    order, buyer, seller = make_order(state="paid", price_fen=39_900)
    case = client.post(f"/api/v1/orders/{order.id}/cases", headers=token_for(client, buyer), json={
        "kind": "refund_only", "reason": "other", "amount_fen": 100}).get_json()
    login_as(seller)
    html = client.post(f"/cases/{case['id']}/actions/agree", data={}, headers={"Referer": f"/cases/{case['id']}"},
                       follow_redirects=True).get_data(as_text=True)
    assert "此页面已过期" in html
    assert case_of(case["id"]).state == "requested"
