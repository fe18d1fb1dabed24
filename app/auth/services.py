"""Login and API tokens. Tokens are random, stored as SHA-256, expiring and revocable.

Failed logins are throttled per username and per client address (pages and API alike) with delays
that grow with each failure instead of a lock-out: past the free failures, an attempt waits
BASE·2^k seconds (capped) after the last failure of that username or address, then the right
password gets in again. An attempt is recorded as a failure before its password is checked, in one
locked transaction, so parallel guesses get no more tries than the limit; a success clears them.

Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a successful login gets a
signed cookie naming the user and a random nonce. An attempt presenting a valid one for that username
skips the username's delay and the address limit; its failures are recorded with the address
"device:<nonce>" and past LOGIN_MAX_FAILURES in the window the device is untrusted (the usual rules
apply). So an attacker holding a username at the delay cap does not keep its user out of their browser."""
import functools
import hashlib
import math
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ..db_tx import transaction
from ..errors import Invalid, NotAuthenticated, RateLimited
from ..extensions import db
from ..timeutil import utcnow
from .models import ApiToken, LoginFailure, User

MIN_PASSWORD_LENGTH = 8
DEVICE_COOKIE = "tj_device"


@functools.cache
def _dummy_hash():
    """Checked for unknown users: the same method and cost as a real password."""
    return generate_password_hash(secrets.token_hex(16))


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _delay(column, key, free, since, now, cfg):
    """Seconds this key (a username or an address) must still wait, 0 when it may try."""
    count, last = db.session.execute(select(func.count(), func.max(LoginFailure.at))
                                     .where(column == key, LoginFailure.at >= since)).one()
    if count < free:
        return 0
    wait = min(cfg["LOGIN_DELAY_BASE_SECONDS"] * 2 ** min(count - free, 32), cfg["LOGIN_DELAY_CAP_SECONDS"])
    return max(0, math.ceil((last + timedelta(seconds=wait) - now).total_seconds()))


def _device_signer():
    return URLSafeTimedSerializer(current_app.secret_key, salt="tj-device")


def new_device_cookie(username):
    """The value of the device cookie set on a successful login of `username`: signed, with a new nonce."""
    return _device_signer().dumps({"u": username, "n": secrets.token_urlsafe(16)})


def _device_nonce(cookie, username):
    """The nonce of a valid, unexpired device cookie issued to `username`; None for any other value."""
    try:
        data = _device_signer().loads(cookie or "", max_age=current_app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400)
    except BadData:
        return None
    ok = isinstance(data, dict) and data.get("u") == username and isinstance(data.get("n"), str)
    return data["n"][:40] if ok else None


def _reserve_attempt(username, addr, now, device=None):
    """Count this attempt as a failure unless the username or the address must wait (RateLimited). With the
    nonce of a device cookie for this username that has failed less than the limit, only that device counts.
    Returns the address the failure was recorded under."""
    cfg = current_app.config
    since = now - timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])
    device_addr = device and f"device:{device}"
    with transaction():
        if db.engine.dialect.name == "postgresql":  # (SQLite: transaction() already holds the write lock)
            keys = (f"login-user:{username}", device_addr and f"login-{device_addr}", f"login-addr:{addr}")
            for key in filter(None, keys):  # always this order: no deadlock
                db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
        trusted = device_addr and db.session.execute(select(func.count()).where(
            LoginFailure.remote_addr == device_addr, LoginFailure.at >= since)).scalar_one() < cfg["LOGIN_MAX_FAILURES"]
        wait = 0 if trusted else max(
            _delay(LoginFailure.username, username, cfg["LOGIN_MAX_FAILURES"], since, now, cfg),
            _delay(LoginFailure.remote_addr, addr, cfg["LOGIN_ADDRESS_MAX_FAILURES"], since, now, cfg))
        if wait:
            raise RateLimited("Too many failed logins; try again later", {"retry_after_seconds": wait},
                              retry_after=wait)
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < since))  # prune the forgotten
        source = device_addr if trusted else addr
        db.session.add(LoginFailure(username=username, remote_addr=source, at=now))
    return source


def _clear_failures(username, source):
    """After a success: a trusted device clears only its own failures (the attacker's delay stays)."""
    where = (LoginFailure.remote_addr == source if source.startswith("device:")
             else LoginFailure.username == username)
    with transaction():
        db.session.execute(delete(LoginFailure).where(where))


def authenticate(username, password, *, remote_addr, device_cookie=None, now=None):
    """The user for these credentials; NotAuthenticated or RateLimited otherwise. Unknown and inactive
    users cost the same password check as real ones, so the answer's timing does not tell them apart.
    `device_cookie`: the tj_device cookie the client sent, if any."""
    now = now or utcnow()
    username = (username or "").strip()[:64]
    source = _reserve_attempt(username, (remote_addr or "")[:64], now, _device_nonce(device_cookie, username))
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()
    matches = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if user is None or not user.is_active or not matches:
        raise NotAuthenticated("Wrong username or password")
    _clear_failures(username, source)
    return user


def end_sessions(user):
    """Every session of `user` ends (logout): their cookies carry the old session version."""
    with transaction():
        db.session.execute(update(User).where(User.id == user.id)
                           .values(session_version=User.session_version + 1))
    db.session.refresh(user)


def change_password(user, current, new, *, remote_addr, device_cookie=None, now=None):
    """Set a new password: every session and API token of the user ends (the caller signs the current
    browser in again). Invalid, writing nothing, when the new one is short or the current one wrong;
    guesses of the current password are throttled like logins (RateLimited)."""
    now = now or utcnow()
    if not isinstance(new, str) or not MIN_PASSWORD_LENGTH <= len(new) <= 256:
        raise Invalid("The password was not changed", {"new_password": "too_short"})
    _reserve_attempt(user.username, (remote_addr or "")[:64], now, _device_nonce(device_cookie, user.username))
    if not check_password_hash(user.password_hash, current or ""):
        raise Invalid("The password was not changed", {"current_password": "wrong_password"})
    with transaction():
        db.session.execute(update(User).where(User.id == user.id).values(
            password_hash=generate_password_hash(new), session_version=User.session_version + 1))
        db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                           .values(revoked_at=now))
        db.session.execute(delete(LoginFailure).where(LoginFailure.username == user.username))
    db.session.refresh(user)


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
