"""Finding 9: complaints against listings were unlimited (30 of 30 accepted). A buyer has at most one open
complaint per listing and `max_open_listing_complaints_per_buyer` (3) open against listings in all;
a closed one frees its place. Refused with 409 in the API error format, or in place on the page."""
from app.cases.models import Case
from app.cases.services import file_complaint, perform_action
from app.extensions import db
from app.rules import get_rules

from ..api.helpers import assert_error, token_for
from ..factories import make_product, make_user


def _listings(n):
    seller = make_user("seller")
    return [make_product(seller.shop) for _ in range(n)]


def _complain(client, headers, listing):
    return client.post("/api/v1/complaints", headers=headers,
                       json={"listing_id": listing.id, "type": "listing_violation", "description": "图片与实物不符"})


def test_the_limits_are_rules(ctx):
    rules = get_rules()
    assert (rules["max_open_complaints_per_listing"], rules["max_open_listing_complaints_per_buyer"]) == (1, 3)


def test_a_buyer_has_at_most_three_open_complaints_against_listings(client, ctx):
    buyer, listings = make_user("buyer"), _listings(30)
    api = token_for(client, buyer)
    answers = [_complain(client, api, listing).status_code for listing in listings]
    assert answers == [201] * 3 + [409] * 27
    error = assert_error(_complain(client, api, listings[3]), 409, "conflict")
    assert set(error["details"]) == {"listing_id"}
    assert db.session.query(Case).count() == 3
    other = token_for(client, make_user("buyer"))  # the limit is the buyer's own
    assert _complain(client, other, listings[0]).status_code == 201


def test_one_open_complaint_per_buyer_and_listing(client, ctx):
    buyer, (listing,) = make_user("buyer"), _listings(1)
    api = token_for(client, buyer)
    first = _complain(client, api, listing)
    assert first.status_code == 201
    error = assert_error(_complain(client, api, listing), 409, "conflict")
    assert "listing_id" in error["details"]
    assert db.session.query(Case).count() == 1
    perform_action(first.get_json()["id"], "withdraw", actor=buyer)  # closed: the place is free again
    assert _complain(client, api, listing).status_code == 201


def test_the_complaint_page_says_why_in_place(client, ctx, login_as):
    buyer, listings = make_user("buyer"), _listings(4)
    for listing in listings[:3]:
        file_complaint(actor=buyer, listing_id=listing.id, type="listing_violation")
    login_as(buyer)
    response = client.post(f"/listings/{listings[3].id}/complaint",
                           data={"complaint-type": "listing_violation", "complaint-description": "重复铺货"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "您已有 3 个针对商品的投诉尚在处理中" in html and "重复铺货" in html  # the message, and what was typed
    assert db.session.query(Case).count() == 3
