"""Issue 11, findings 1, 2, 5 and 6 as an attacker sees them: forged sessions, open redirects,
login throttling, sessions that outlive logout."""
import os
import stat
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select

import config as config_module
from app import create_app
from app.auth import services as auth_services
from app.auth.models import ApiToken, LoginFailure
from app.auth.services import authenticate
from app.errors import NotAuthenticated, RateLimited
from app.extensions import db
from app.timeutil import utcnow

from .api.helpers import assert_error, token_for
from .factories import PASSWORD, make_user


# 1. Secrets ----------------------------------------------------------------------------------------

def _cookie_signed_with(key, user_id):
    signer = Flask(__name__)
    signer.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps({"_user_id": str(user_id),
                                                                                "_fresh": True})


@pytest.fixture
def dev_app(database_url, tmp_path, monkeypatch):
    """The development configuration, as `make run` starts it: no SECRET_KEY in the environment."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    return create_app("development", SQLALCHEMY_DATABASE_URI=database_url,
                      EVIDENCE_STORE_URL=f"file://{tmp_path}/evidence")


def test_a_cookie_forged_with_the_old_public_key_opens_no_page(app, ctx, dev_app):
    admin = make_user("admin")
    client = dev_app.test_client()
    client.set_cookie("session", _cookie_signed_with("dev-only-not-secret", admin.id))
    response = client.get("/orders")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def test_the_first_start_writes_a_private_random_key_and_later_starts_reuse_it(app, dev_app, database_url, tmp_path):
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = dev_app.config["SECRET_KEY"]
    assert len(key.encode()) >= 32 and key == path.read_text().strip()
    again = create_app("development", SQLALCHEMY_DATABASE_URI=database_url)
    assert again.config["SECRET_KEY"] == key


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    from app.auth.secret_key import instance_secret_key

    barrier, keys = threading.Barrier(8), []

    def start():
        barrier.wait()
        keys.append(instance_secret_key(str(tmp_path)))
    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no temporary file left


# 2. Redirects --------------------------------------------------------------------------------------

HOSTILE_NEXT = ["/\t/evil.com", "//evil.com", "/\\evil.com", "https://evil.com", "/\r\nSet-Cookie:x",
                "\t//evil.com", "\\\\evil.com", "/\\/evil.com", " //evil.com", "http:evil.com", "/\x00x"]


def _stays_here(response):
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/"), location
    assert not location.startswith("//") and "\\" not in location, location
    assert not any(ord(c) < 0x20 or ord(c) == 0x7f for c in location), location


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_language_switch_redirects_only_to_this_site(client, target):
    _stays_here(client.get("/lang/en", query_string={"next": target}))


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_redirects_only_to_this_site(client, ctx, target):
    buyer = make_user("buyer")
    response = client.post("/login", query_string={"next": target},
                           data={"username": buyer.username, "password": PASSWORD})
    _stays_here(response)


def test_a_local_next_is_still_followed(client, ctx):
    buyer = make_user("buyer")
    response = client.post("/login?next=/orders%3Fstatus%3Dpaid", data={"username": buyer.username,
                                                                          "password": PASSWORD})
    assert response.headers["Location"] == "/orders?status=paid"
    assert client.get("/lang/en?next=/orders").headers["Location"] == "/orders"


def test_a_refused_form_does_not_follow_a_hostile_referrer(client, ctx, login_as):
    from .factories import make_order
    order, buyer, _ = make_order(state="delivered")
    login_as(buyer)
    for referrer in ("http://localhost/\t/evil.com", "/\\evil.com", "http://localhost//evil.com"):
        response = client.post(f"/orders/{order.id}/cases", data={"case-description": "坏\x00了"},
                               headers={"Referer": referrer})
        _stays_here(response)


# 5. Login throttling -------------------------------------------------------------------------------

def _fail(username, times, *, at, addr="198.51.100.7"):
    for i in range(times):
        with pytest.raises(NotAuthenticated):
            authenticate(username, "wrong", remote_addr=addr, now=at + timedelta(milliseconds=i))


def test_five_wrong_passwords_from_anyone_do_not_lock_the_real_user_out(app, ctx):
    buyer = make_user("buyer")
    t0 = utcnow()
    _fail(buyer.username, 5, at=t0, addr="203.0.113.66")
    with pytest.raises(RateLimited) as throttled:  # at once: even the right password waits (no oracle)
        authenticate(buyer.username, PASSWORD, remote_addr="192.0.2.1", now=t0 + timedelta(milliseconds=5))
    wait = throttled.value.retry_after
    assert 0 < wait <= 60
    later = t0 + timedelta(seconds=wait + 1)  # the delay is short, not the 15-minute lock-out
    assert authenticate(buyer.username, PASSWORD, remote_addr="192.0.2.1", now=later) == buyer


def test_the_delay_grows_with_each_failure_up_to_its_cap(app, ctx):
    buyer = make_user("buyer")
    at, waits = utcnow(), []
    _fail(buyer.username, 5, at=at)
    for _ in range(20):
        at += timedelta(milliseconds=10)
        with pytest.raises(RateLimited) as throttled:
            authenticate(buyer.username, "wrong", remote_addr="198.51.100.7", now=at)
        waits.append(throttled.value.retry_after)
        at += timedelta(seconds=throttled.value.retry_after)  # the wait it was told: then it may try again
        with pytest.raises(NotAuthenticated):
            authenticate(buyer.username, "wrong", remote_addr="198.51.100.7", now=at)
    assert waits[:3] == [1, 2, 4] and waits == sorted(waits)
    assert waits[-1] == app.config["LOGIN_DELAY_CAP_SECONDS"]


def test_spraying_one_password_across_usernames_is_throttled_by_address(app, ctx):
    t0 = utcnow()
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    for i in range(limit):
        _fail(f"victim{i}", 1, at=t0 + timedelta(milliseconds=i), addr="203.0.113.9")
    with pytest.raises(RateLimited):
        authenticate("victim-next", "Spring2026!", remote_addr="203.0.113.9", now=t0 + timedelta(seconds=1))
    buyer = make_user("buyer")  # another address is not held back
    assert authenticate(buyer.username, PASSWORD, remote_addr="192.0.2.1", now=t0 + timedelta(seconds=1)) == buyer


def test_unknown_and_existing_users_cost_the_same_password_check(app, ctx, monkeypatch):
    checked = []
    real = auth_services.check_password_hash
    monkeypatch.setattr(auth_services, "check_password_hash",
                        lambda pwhash, password: checked.append(pwhash.split("$")[0]) or real(pwhash, password))
    buyer = make_user("buyer")
    _fail(buyer.username, 1, at=utcnow())
    _fail("nobody-by-this-name", 1, at=utcnow(), addr="192.0.2.44")
    assert len(checked) == 2 and checked[0] == checked[1]  # same method and cost for both


def test_old_failures_are_pruned_when_a_failure_is_recorded(app, ctx):
    now = utcnow()
    old = now - timedelta(minutes=app.config["LOGIN_FAILURE_WINDOW_MINUTES"] + 1)
    db.session.add_all([LoginFailure(username=f"u{i}", remote_addr="192.0.2.9", at=old) for i in range(50)])
    db.session.commit()
    _fail("someone", 1, at=now)
    assert db.session.execute(select(func.count()).select_from(LoginFailure)).scalar_one() == 1


def test_the_api_answers_429_with_retry_after_in_the_error_format(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_BASE_SECONDS", 600)  # the first delay outlasts this test
    buyer = make_user("buyer")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": buyer.username, "password": "nope"})
    response = client.post("/api/v1/auth/token", json={"username": buyer.username, "password": PASSWORD})
    error = assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1 and error["details"]["retry_after_seconds"] >= 1


def test_the_login_page_says_how_long_to_wait(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_BASE_SECONDS", 600)  # the first delay outlasts this test
    buyer = make_user("buyer")
    for _ in range(5):
        client.post("/login", data={"username": buyer.username, "password": "nope"})
    response = client.post("/login", data={"username": buyer.username, "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert "登录失败次数过多，请等待 10 分钟后再试" in response.get_data(as_text=True)


def _drive_to_the_cap(app, username, addr="203.0.113.66"):
    """The attack of issue 11: 15 failures over ~1,028 s, each as soon as the last wait ended, reach the
    900 s cap (one guess every 901 s would keep it there); the last one lies about a minute in the past."""
    with app.app_context():
        at = utcnow() - timedelta(seconds=1100)
        _fail(username, app.config["LOGIN_MAX_FAILURES"], at=at, addr=addr)
        while True:
            at += timedelta(milliseconds=10)
            with pytest.raises(RateLimited) as throttled:
                authenticate(username, "wrong", remote_addr=addr, now=at)
            if throttled.value.retry_after >= app.config["LOGIN_DELAY_CAP_SECONDS"]:
                break
            at += timedelta(seconds=throttled.value.retry_after)
            _fail(username, 1, at=at, addr=addr)
        db.session.remove()


def _login(client, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def test_an_attacker_at_the_delay_cap_does_not_lock_the_user_out_of_a_browser_they_signed_in_from(app):
    buyer = _account(app)
    browser = _signed_in(app, buyer)
    cookie = browser.get_cookie("tj_device")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.max_age >= 90 * 24 * 3600 and buyer.username not in cookie.value.split(".")[-1]
    browser.post("/logout")
    _drive_to_the_cap(app, buyer.username)
    blocked = _login(app.test_client(), buyer.username)  # a browser without the cookie waits as before
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 60
    assert _login(browser, buyer.username).status_code == 302  # the user's own browser gets in at once
    assert browser.get("/orders").status_code == 200
    assert _login(app.test_client(), buyer.username).status_code == 429  # the attacker still waits
    api = app.test_client()  # the API accepts the same cookie when it is sent
    api.set_cookie("tj_device", browser.get_cookie("tj_device").value)
    assert api.post("/api/v1/auth/token", json={"username": buyer.username, "password": PASSWORD}).status_code == 200


def test_the_password_page_of_a_trusted_browser_is_not_held_by_the_attackers_delay(app):
    buyer = _account(app)
    browser = _signed_in(app, buyer)
    first = browser.get_cookie("tj_device").value
    _drive_to_the_cap(app, buyer.username)
    response = browser.post("/account/password", data={"current_password": PASSWORD, "new_password": "n3w-pass-word",
                                                       "repeat_password": "n3w-pass-word"})
    assert response.status_code == 302  # the re-login gives the browser a new device cookie
    assert browser.get_cookie("tj_device").value != first
    assert _login(browser, buyer.username, "n3w-pass-word").status_code == 302


def test_a_device_cookie_of_another_user_tampered_or_forged_is_ignored(app):
    from itsdangerous import URLSafeTimedSerializer
    buyer, other = _account(app), _account(app)
    others = _signed_in(app, other).get_cookie("tj_device").value
    own = _signed_in(app, buyer).get_cookie("tj_device").value
    _drive_to_the_cap(app, buyer.username)
    payload, signature = own.rsplit(".", 1)
    # the first character of the signature: all its bits are signature bits (the last character's low bits are
    # base64 padding, so changing A to B there could leave the signature as it was: a flaky test)
    tampered = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    forged = URLSafeTimedSerializer("a-guessed-key", salt="tj-device").dumps({"u": buyer.username, "n": "x" * 22})
    for value in (others, tampered, forged, buyer.username):
        client = app.test_client()
        client.set_cookie("tj_device", value)
        assert _login(client, buyer.username).status_code == 429, value
    client = app.test_client()
    client.set_cookie("tj_device", own)
    assert _login(client, buyer.username).status_code == 302


def test_a_device_cookie_that_fails_five_times_is_trusted_no_longer(app):
    buyer = _account(app)
    browser = _signed_in(app, buyer)  # its cookie could as well be stolen: it buys only the device's tries
    _drive_to_the_cap(app, buyer.username)
    tries = [_login(browser, buyer.username, f"guess{i}").status_code for i in range(app.config["LOGIN_MAX_FAILURES"])]
    assert tries == [401] * app.config["LOGIN_MAX_FAILURES"]
    assert _login(browser, buyer.username).status_code == 429  # now throttled like any browser


def test_an_untrusted_device_is_trusted_again_once_its_failures_leave_the_window(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_BASE_SECONDS", 600)
    buyer = make_user("buyer")
    cookie = auth_services.new_device_cookie(buyer.username)
    t0 = utcnow()
    for i in range(app.config["LOGIN_MAX_FAILURES"]):
        with pytest.raises(NotAuthenticated):
            authenticate(buyer.username, "wrong", remote_addr="192.0.2.1", device_cookie=cookie,
                         now=t0 + timedelta(milliseconds=i))
    with pytest.raises(RateLimited):
        authenticate(buyer.username, PASSWORD, remote_addr="192.0.2.1", device_cookie=cookie,
                     now=t0 + timedelta(seconds=1))
    later = t0 + timedelta(minutes=app.config["LOGIN_FAILURE_WINDOW_MINUTES"], seconds=10)
    _fail(buyer.username, 5, at=later - timedelta(seconds=5))  # an attacker holds the username again
    with pytest.raises(RateLimited):
        authenticate(buyer.username, PASSWORD, remote_addr="192.0.2.1", now=later)
    assert authenticate(buyer.username, PASSWORD, remote_addr="192.0.2.1", device_cookie=cookie, now=later) == buyer


def test_the_device_cookie_is_secure_where_the_session_cookie_is(app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    client = app.test_client()
    response = _login(client, _account(app).username)
    assert response.status_code == 302
    assert "; Secure" in next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("tj_device="))


# 6. Sessions ---------------------------------------------------------------------------------------

def _account(app, role="buyer"):
    """A user made in an app context of its own: the requests below then each load the user afresh
    (a test-wide context would share Flask-Login's `g._login_user` between the clients)."""
    from types import SimpleNamespace
    with app.app_context():
        user = make_user(role)
        account = SimpleNamespace(id=user.id, username=user.username)
        db.session.remove()
    return account


def _signed_in(app, account, password=PASSWORD):
    client = app.test_client()
    assert client.post("/login", data={"username": account.username, "password": password}).status_code == 302
    return client


def test_a_copied_session_cookie_stops_working_after_logout(app):
    client = _signed_in(app, _account(app))
    stolen = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/orders").status_code == 200  # the copy works while the session lasts
    client.post("/logout")
    response = thief.get("/orders")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def test_changing_the_password_ends_other_sessions_and_api_tokens(app):
    buyer = _account(app)
    client, other_device = _signed_in(app, buyer), _signed_in(app, buyer)
    headers = token_for(app.test_client(), buyer)
    page = client.get("/account/password")
    assert page.status_code == 200 and "修改密码" in page.get_data(as_text=True)
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "n3w-pass-word",
                                                      "repeat_password": "n3w-pass-word"})
    assert response.status_code == 302
    assert client.get("/orders").status_code == 200  # this browser stays signed in
    assert other_device.get("/orders").status_code == 302
    assert_error(client.get("/api/v1/orders", headers=headers), 401, "not_authenticated")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(ApiToken)
                                  .where(ApiToken.revoked_at.is_(None))).scalar_one() == 0
    assert _signed_in(app, buyer, "n3w-pass-word").get("/orders").status_code == 200


def test_a_wrong_or_short_password_change_shows_errors_in_place_and_changes_nothing(app):
    from app.auth.models import User
    buyer = _account(app)
    client = _signed_in(app, buyer)
    with app.app_context():
        before = db.session.execute(select(User.password_hash, User.session_version)
                                    .where(User.id == buyer.id)).one()
    wrong = client.post("/account/password", data={"current_password": "nope", "new_password": "n3w-pass-word",
                                                   "repeat_password": "n3w-pass-word"})
    assert wrong.status_code == 200 and "当前密码不正确" in wrong.get_data(as_text=True)
    short = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short",
                                                   "repeat_password": "other"})
    html = short.get_data(as_text=True)
    assert short.status_code == 200 and "至少 8 个字符" in html and "两次输入的密码不一致" in html
    with app.app_context():
        assert db.session.execute(select(User.password_hash, User.session_version)
                                  .where(User.id == buyer.id)).one() == before
    assert client.get("/orders").status_code == 200


def test_guessing_the_current_password_on_the_change_page_is_throttled(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_BASE_SECONDS", 600)
    buyer = _account(app)
    client = _signed_in(app, buyer)  # a stolen session must not become a password oracle
    guess = {"new_password": "n3w-pass-word", "repeat_password": "n3w-pass-word"}
    for i in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/account/password", data={"current_password": f"guess{i}", **guess}).status_code == 200
    response = client.post("/account/password", data={"current_password": PASSWORD, **guess})
    assert response.status_code == 429 and "请等待 10 分钟后再试" in response.get_data(as_text=True)
    assert client.get("/orders").status_code == 200  # the password did not change: the session lives on


def test_session_cookies_are_lax_httponly_and_short_lived(app, client, ctx, login_as):
    login_as(make_user("buyer"))
    cookie = client.get_cookie("session")
    assert cookie.same_site == "Lax" and cookie.http_only
    assert app.permanent_session_lifetime <= timedelta(hours=12)


def test_production_cookies_are_secure(app, database_url, monkeypatch, tmp_path):
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    prod = create_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="k" * 32)
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_SECURE"]
    assert prod.config["SESSION_COOKIE_HTTPONLY"] and prod.config["REMEMBER_COOKIE_HTTPONLY"]


def test_a_case_page_cannot_be_framed_leaks_no_referrer_and_is_not_cached(client, ctx, login_as):
    from .web.test_case_pages import _open_case_page
    case, *_ = _open_case_page(client, login_as)
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def _token_attempts(client, names, forwarded_for, password="nope"):
    return [client.post("/api/v1/auth/token", json={"username": name, "password": password},
                        headers={"X-Forwarded-For": forwarded_for}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
                        ).status_code for name in names]


def test_behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own(app, ctx, database_url, tmp_path):
    """Found by the attack on issue 11: behind a reverse proxy (HTTPS in production) every request came from
    the proxy's address, so 20 failed logins by anyone throttled every login of the site. TRUSTED_PROXIES=1
    takes the client's address from the proxy's X-Forwarded-For."""
    proxied = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, EVIDENCE_STORE_URL=f"file://{tmp_path}/ev",
                         TRUSTED_PROXIES=1)
    buyer = make_user("buyer")
    client = proxied.test_client()
    assert _token_attempts(client, [f"nobody{i}" for i in range(21)], "203.0.113.5")[-1] == 429
    assert _token_attempts(client, [buyer.username], "203.0.113.6", password=PASSWORD) == [200]


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(app, client, ctx):
    statuses = [_token_attempts(client, [f"nobody{i}"], f"203.0.113.{i}")[0] for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
