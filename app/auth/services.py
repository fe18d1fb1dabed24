"""Login and API tokens. Tokens are random, stored as SHA-256, expiring and revocable;
failed logins are rate-limited per username (pages and API alike)."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from ..db_tx import transaction
from ..errors import NotAuthenticated, RateLimited
from ..extensions import db
from ..timeutil import utcnow
from .models import ApiToken, LoginFailure, User


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(username, password, *, remote_addr, now=None):
    """The user for these credentials; NotAuthenticated or RateLimited otherwise."""
    now = now or utcnow()
    cfg = current_app.config
    username = (username or "").strip()[:64]
    window_start = now - timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])
    failures = db.session.execute(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.at >= window_start)).scalar_one()
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        raise RateLimited("Too many failed logins; try again later",
                          {"retry_after_minutes": cfg["LOGIN_FAILURE_WINDOW_MINUTES"]})
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None or not user.is_active or not user.check_password(password or ""):
        with transaction():
            db.session.add(LoginFailure(username=username, remote_addr=remote_addr or "", at=now))
        raise NotAuthenticated("Wrong username or password")
    with transaction():
        db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return user


def issue_token(user, *, now=None):
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with transaction():
        db.session.add(ApiToken(user_id=user.id, token_hash=_hash(token), created_at=now,
                                expires_at=now + timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"])))
    return token


def user_for_token(token, *, now=None):
    now = now or utcnow()
    row = db.session.execute(select(ApiToken).filter_by(token_hash=_hash(token))
                             .options(joinedload(ApiToken.user))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.is_active:
        return None
    return row.user


def revoke_token(token, *, now=None):
    with transaction():
        row = db.session.execute(select(ApiToken).filter_by(token_hash=_hash(token))).scalar_one_or_none()
        if row is not None and row.revoked_at is None:
            row.revoked_at = now or utcnow()
