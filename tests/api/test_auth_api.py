from datetime import timedelta

from sqlalchemy import func, select

from app.auth.models import ApiToken
from app.extensions import db

from ..factories import make_user
from .helpers import assert_error, token_for


def test_token_is_issued_and_stored_only_as_a_hash(client, ctx):
    buyer = make_user("buyer")
    headers = token_for(client, buyer)
    token = headers["Authorization"].split()[1]
    stored = db.session.execute(select(ApiToken.token_hash)).scalar_one()
    assert stored != token and len(stored) == 64
    assert client.get("/api/v1/orders", headers=headers).status_code == 200


def test_wrong_password_is_401_in_the_error_format(client, ctx):
    buyer = make_user("buyer")
    response = client.post("/api/v1/auth/token", json={"username": buyer.username, "password": "nope"})
    assert_error(response, 401, "not_authenticated")


def test_repeated_wrong_passwords_are_rate_limited_even_with_the_right_one(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_BASE_SECONDS", 600)  # the first delay outlasts this test
    buyer = make_user("buyer")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": buyer.username, "password": "nope"})
    response = client.post("/api/v1/auth/token", json={"username": buyer.username, "password": "secret-pass"})
    assert_error(response, 429, "rate_limited")


def test_malformed_json_is_400_and_missing_fields_422(client, ctx):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert_error(response, 400, "bad_request")
    error = assert_error(client.post("/api/v1/auth/token", json={"username": 3}), 422, "invalid")
    assert set(error["details"]) == {"username", "password"}
    assert_error(client.post("/api/v1/auth/token", json=["a"]), 400, "bad_request")


def test_missing_garbage_expired_and_revoked_tokens_are_401(client, ctx):
    assert_error(client.get("/api/v1/orders"), 401, "not_authenticated")
    assert_error(client.get("/api/v1/orders", headers={"Authorization": "Bearer garbage"}), 401, "not_authenticated")
    buyer = make_user("buyer")
    headers = token_for(client, buyer)
    row = db.session.execute(select(ApiToken)).scalar_one()
    row.expires_at = row.created_at - timedelta(seconds=1)
    db.session.commit()
    assert_error(client.get("/api/v1/orders", headers=headers), 401, "not_authenticated")
    headers = token_for(client, buyer)
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/orders", headers=headers), 401, "not_authenticated")
    assert db.session.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 2


def test_unknown_endpoint_and_wrong_method_answer_json(client, ctx):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.put("/api/v1/auth/token"), 405, "method_not_allowed")
