"""The admin console's pages: what an admin sees and does through the forms (the services' own checks are in
test_admin_services.py); a deactivated user is locked out of pages and the API."""
import re

import pytest
from sqlalchemy import select

from app.admin_audit import AdminEvent, verify
from app.auth.models import MediatorTeam, User
from app.auth.services import issue_token
from app.extensions import db
from app.rules import get_rules

from ..factories import PASSWORD, make_shop, make_user


@pytest.fixture
def admin_client(ctx, client, login_as):
    login_as(make_user("admin"))
    return client


def csrf(client, path):
    """The page's CSRF token (the test configuration does not check it; the page must load)."""
    response = client.get(path)
    assert response.status_code == 200, path
    found = re.search(r'name="[\w-]*csrf_token" (?:type="hidden" )?value="([^"]+)"', response.get_data(as_text=True))
    return found.group(1) if found else ""


def events(app):
    db.session.expire_all()
    if True:
        return [(e.action, e.reason) for e in db.session.execute(select(AdminEvent).order_by(AdminEvent.id)).scalars()]


def test_console_pages_render_for_an_admin(admin_client):
    for path in ("/admin/", "/admin/users", "/admin/teams", "/admin/rules", "/admin/rules/mediation_queue_hours",
                 "/admin/deposits", "/admin/tasks", "/admin/audit"):
        response = admin_client.get(path)
        assert response.status_code == 200, path
    assert "管理后台" in admin_client.get("/admin/").get_data(as_text=True)


def test_rules_page_lists_every_key_of_the_rules_table(admin_client):
    from workflows.rules import DEFAULTS
    html = admin_client.get("/admin/rules").get_data(as_text=True)
    assert all(f'id="rule-{key}"' in html for key in DEFAULTS)


def test_edit_a_rule_through_the_form(app, admin_client):
    token = csrf(admin_client, "/admin/rules/mediation_queue_hours")
    refused = admin_client.post("/admin/rules/mediation_queue_hours", data={
        "rule-csrf_token": token, "rule-value": "9999", "rule-reason": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "取值需在 1 至 8760 之间" in html and "请填写此项" in html
    response = admin_client.post("/admin/rules/mediation_queue_hours", data={
        "rule-csrf_token": token, "rule-value": "36", "rule-reason": "春节期间放宽"})
    assert response.status_code == 302
    if True:
        assert get_rules()["mediation_queue_hours"] == 36
    assert events(app) == [("rules.update", "春节期间放宽")]
    rulebook = admin_client.get("/workflows").get_data(as_text=True)
    row = re.search(r'<tr id="rule-mediation_queue_hours"><td>.*?</td>(.*?)</tr>', rulebook, re.S).group(1)
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).split() == ["36", "24"]  # in force, the default


def test_create_a_mediator_shows_the_password_once(app, admin_client):
    token = csrf(admin_client, "/admin/users")
    response = admin_client.post("/admin/users", data={
        "user-csrf_token": token, "user-username": "med_wang", "user-display_name": "王调解",
        "user-role": "mediator", "user-shop_id": "", "user-password": "", "user-reason": "新员工"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    assert "Set-Cookie" not in response.headers or password not in response.headers["Set-Cookie"]
    other = app.test_client()
    assert other.post("/login", data={"username": "med_wang", "password": password}).status_code == 302
    assert password not in admin_client.get("/admin/users").get_data(as_text=True)


def test_deactivated_user_is_locked_out_of_pages_and_api(app):
    """Outside the test's request context: Flask-Login keeps the user in `g`, which clients in one context share."""
    with app.test_request_context():
        boss, user = make_user("admin"), make_user("mediator")
        token = issue_token(user)
        uid, username, boss_name = user.id, user.username, boss.username
        db.session.remove()
    admin_client, theirs = app.test_client(), app.test_client()
    for client, name in ((admin_client, boss_name), (theirs, username)):
        assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
    assert theirs.get("/queue").status_code == 200
    api = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/cases", headers=api).status_code == 200

    form = csrf(admin_client, f"/admin/users/{uid}")
    response = admin_client.post(f"/admin/users/{uid}/active", data={
        "active-csrf_token": form, "active": "0", "active-reason": "离职"})
    assert response.status_code == 302
    assert "账号已停用" in admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert theirs.get("/queue").headers["Location"].startswith("/login")
    assert app.test_client().get("/api/v1/cases", headers=api).status_code == 401
    assert theirs.post("/login", data={"username": username, "password": PASSWORD}).status_code == 401


def test_admin_cannot_deactivate_themselves_on_the_page(app, admin_client):
    if True:
        me = db.session.execute(select(User).where(User.role == "admin")).scalar_one().id
    form = csrf(admin_client, f"/admin/users/{me}")
    response = admin_client.post(f"/admin/users/{me}/active", data={
        "active-csrf_token": form, "active": "0", "active-reason": "试试"})
    assert response.status_code == 422
    assert "不能停用自己的账号" in response.get_data(as_text=True)


def test_team_form_creates_a_team(app, admin_client):
    m = make_user("mediator")
    mid = m.id
    token = csrf(admin_client, "/admin/teams")
    response = admin_client.post("/admin/teams", data={
        "team-csrf_token": token, "team-name": "数码组", "team-categories": ["electronics"],
        "team-members": [str(mid)], "team-reason": "数码纠纷多"})
    assert response.status_code == 302
    html = admin_client.get("/admin/teams").get_data(as_text=True)
    assert "数码组" in html and "数码" in html
    db.session.expire_all()
    if True:
        team = db.session.execute(select(MediatorTeam)).scalar_one()
        assert [m.user_id for m in team.members] == [mid]
        assert verify() == []


def test_deposit_page_sets_required_amount_in_yuan(app, admin_client):
    shop = make_shop()
    sid = shop.id
    token = csrf(admin_client, f"/admin/shops/{sid}")
    response = admin_client.post(f"/admin/shops/{sid}/deposit", data={
        "deposit-csrf_token": token, "deposit-amount": "5000.50", "deposit-reason": "类目要求"})
    assert response.status_code == 302
    html = admin_client.get(f"/admin/shops/{sid}").get_data(as_text=True)
    assert "¥5,000.50" in html


def test_non_admins_get_403(ctx, client, login_as):
    mediator = make_user("mediator")
    login_as(mediator)
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/rules").status_code == 403


def test_the_queue_page_shows_a_teams_category_to_its_members_only(app, ctx, client, login_as):
    from ..admin.test_admin_services import queued_complaint
    from app.admin.services import save_team
    from app.cases.models import Case
    from app.timeutil import utcnow
    boss, digital, other = make_user("admin"), make_user("mediator"), make_user("mediator")
    save_team(actor=boss, name="数码组", categories=["electronics"], member_ids=[digital.id], reason="组建")
    phone = db.session.get(Case, queued_complaint(utcnow(), "electronics")).number
    login_as(other)
    assert phone not in client.get("/queue").get_data(as_text=True)
    client.post("/logout")
    login_as(digital)
    assert phone in client.get("/queue").get_data(as_text=True)
