from flask import request

from ...auth.services import DEVICE_COOKIE, authenticate, issue_token, revoke_token
from ...errors import Invalid
from . import bp, json_body, token_required


@bp.post("/auth/token")
def create_token():
    data = json_body("username", "password")
    errors = {k: "required string" for k in ("username", "password") if not isinstance(data.get(k), str) or not data[k]}
    if errors:
        raise Invalid("username and password are required", errors)
    user = authenticate(data["username"], data["password"], remote_addr=request.remote_addr,
                        device_cookie=request.cookies.get(DEVICE_COOKIE))  # accepted if sent, never set here
    return {"token": issue_token(user), "user": {"id": user.id, "username": user.username, "role": user.role}}


@bp.delete("/auth/token")
@token_required
def delete_token():
    revoke_token(request.headers["Authorization"].partition(" ")[2].strip())
    return "", 204
