from ..factories import make_order, make_user
from .helpers import assert_error, token_for


def test_buyer_lists_only_their_orders_in_the_list_shape(client, ctx):
    mine, buyer, _ = make_order(state="paid")
    make_order(state="paid")  # someone else's
    body = client.get("/api/v1/orders", headers=token_for(client, buyer)).get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 20, 1)
    assert [o["id"] for o in body["items"]] == [mine.id]
    assert body["items"][0]["escrow_fen"] == 10_000


def test_seller_sees_their_shop_orders_and_filters_by_status(client, ctx):
    seller = make_user("seller")
    paid, _, _ = make_order(seller=seller, state="paid")
    make_order(seller=seller, state="shipped")
    make_order(state="paid")
    headers = token_for(client, seller)
    assert client.get("/api/v1/orders", headers=headers).get_json()["total"] == 2
    body = client.get("/api/v1/orders?status=paid", headers=headers).get_json()
    assert [o["id"] for o in body["items"]] == [paid.id]
    assert_error(client.get("/api/v1/orders?status=lost", headers=headers), 422, "invalid")


def test_order_detail_has_the_contract_fields(client, ctx):
    order, buyer, seller = make_order(state="shipped", price_fen=2_500, quantity=2)
    body = client.get(f"/api/v1/orders/{order.id}", headers=token_for(client, buyer)).get_json()
    assert {"id", "number", "status", "buyer_id", "shop_id", "items", "total_fen", "paid_fen", "refunded_fen",
            "refundable_fen", "escrow_fen", "shipments", "open_case_id", "created_at"} <= set(body)
    assert (body["status"], body["total_fen"], body["paid_fen"], body["escrow_fen"]) == ("shipped", 5_000, 5_000, 5_000)
    assert body["items"][0]["quantity"] == 2 and body["shipments"][0]["carrier"] == "sf"
    assert body["created_at"].endswith("+00:00")
    assert client.get(f"/api/v1/orders/{order.id}", headers=token_for(client, seller)).status_code == 200


def test_another_users_order_is_404_for_buyer_seller_and_mediator(client, ctx):
    order, _, _ = make_order(state="paid")
    for user in (make_user("buyer"), make_user("seller"), make_user("mediator")):
        assert_error(client.get(f"/api/v1/orders/{order.id}", headers=token_for(client, user)), 404, "not_found")
    assert_error(client.get("/api/v1/orders/999999", headers=token_for(client, make_user("admin"))), 404, "not_found")


def test_paging_parameters_are_validated(client, ctx):
    buyer = make_user("buyer")
    for _ in range(3):
        make_order(buyer=buyer, state="created")
    headers = token_for(client, buyer)
    body = client.get("/api/v1/orders?per_page=2&page=2", headers=headers).get_json()
    assert (len(body["items"]), body["total"], body["page"]) == (1, 3, 2)
    error = assert_error(client.get("/api/v1/orders?per_page=101&page=x", headers=headers), 422, "invalid")
    assert set(error["details"]) == {"per_page", "page"}
