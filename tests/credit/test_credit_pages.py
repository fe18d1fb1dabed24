"""What a mediator and an admin see of a buyer's credit: the panel beside the case, the credit page with the
flag's history, the admin's form (a reason required), the mediator's finding on the case page, and the API."""
import html
import re
from datetime import timedelta

import pytest

from app.auth.services import issue_token
from app.cases.services import perform_action
from app.timeutil import utcnow

from ..factories import make_user
from ..readers import case_of, fresh
from .history import complaint, dismissed_complaint, propose, request, to_review


@pytest.fixture
def T():
    return utcnow().replace(microsecond=0)


def text(response):
    """The page's visible words."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def panel(response):
    match = re.search(r'<section class="card credit-panel" id="buyer-credit">.*?</section>',
                      response.get_data(as_text=True), re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", match.group(0)))) if match else None


def test_the_mediator_sees_the_buyers_credit_beside_the_case_and_the_parties_do_not(ctx, app, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    dismissed_complaint(buyer, mediator, T - timedelta(days=100))
    request(buyer, T - timedelta(days=3))
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    for user, sees in ((mediator, True), (make_user("admin"), True), (buyer, False), (seller, False)):
        client = app.test_client()
        client.post("/login", data={"username": user.username, "password": "secret-pass"})
        response = client.get(f"/cases/{cid}")
        assert response.status_code == 200
        if not sees:
            assert panel(response) is None and "买家信用" not in text(response)
            continue
        words = panel(response)
        assert "无恶意退款标记" in words
        # within 90 days: one request, one complaint (this one); all time: the old dismissed complaint too
        assert "提交的售后申请 1 1" in words
        assert "提交的投诉 1 2" in words
        assert "不利于买家的裁决（驳回或少于所请求金额） 0 1" in words
        assert "其中驳回 0 1" in words
        assert f'href="/buyers/{buyer.id}/credit"' in response.get_data(as_text=True)


def test_the_mediators_finding_on_the_case_page_flags_the_buyer_once_accepted(ctx, app, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    client = app.test_client()
    client.post("/login", data={"username": mediator.username, "password": "secret-pass"})
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert 'name="propose-buyer_malicious"' in page and "认定：买家有过错/恶意退款" in page
    version = case_of(cid).version
    response = client.post(f"/cases/{cid}/actions/propose", data={
        "propose-expected_version": version, "propose-remedy": "dismiss", "propose-findings": "买家提供的照片为网图",
        "propose-rule": "恶意投诉", "propose-buyer_malicious": "y"})
    assert response.status_code == 302, text(response)
    case = case_of(cid)
    assert (case.state, case.remedy_type, case.buyer_malicious) == ("proposed", "dismiss", True)
    assert "认定买家过错/恶意" in text(client.get(f"/cases/{cid}"))  # the proposal card says so, to both parties
    perform_action(cid, "accept_proposal", actor=buyer, now=T)
    perform_action(cid, "accept_proposal", actor=seller, now=T)
    assert fresh(type(buyer), buyer.id).is_malicious_refund is True
    assert "恶意退款标记：不享受平台垫付" in panel(client.get(f"/cases/{cid}"))


def test_a_full_refund_with_the_finding_is_refused_beside_the_field(ctx, app, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    client = app.test_client()
    client.post("/login", data={"username": mediator.username, "password": "secret-pass"})
    response = client.post(f"/cases/{cid}/actions/propose", data={
        "propose-expected_version": case_of(cid).version, "propose-remedy": "full_refund",
        "propose-findings": "x", "propose-rule": "y", "propose-buyer_malicious": "y"})
    assert response.status_code == 422
    assert "全额支持的诉求不能认定为恶意。" in text(response)
    assert case_of(cid).state == "under_review"


def test_an_admin_flags_and_clears_a_buyer_on_the_credit_page_with_a_reason(ctx, app, T):
    buyer, admin = make_user("buyer"), make_user("admin")
    client = app.test_client()
    client.post("/login", data={"username": admin.username, "password": "secret-pass"})
    page = text(client.get(f"/buyers/{buyer.id}/credit"))
    assert "无恶意退款标记" in page and "从未被标记。" in page and "标记该买家" in page

    response = client.post(f"/buyers/{buyer.id}/credit/flag", data={"flag-flag": "1", "flag-reason": "  "})
    assert response.status_code == 422
    assert "请填写" in text(response)
    assert fresh(type(buyer), buyer.id).is_malicious_refund is False

    response = client.post(f"/buyers/{buyer.id}/credit/flag", data={"flag-flag": "1", "flag-reason": "多次恶意退款"})
    assert response.status_code == 302
    page = text(client.get(f"/buyers/{buyer.id}/credit"))
    assert "已标记该买家：不再享受平台垫付。" in page
    assert "恶意退款标记：不享受平台垫付" in page and "解除标记" in page
    assert re.search(r"已标记 管理员 · \S+ 测试 多次恶意退款", page)
    assert fresh(type(buyer), buyer.id).is_malicious_refund is True

    # the same form sent twice (another tab): refused, the page shows the flag as it is
    response = client.post(f"/buyers/{buyer.id}/credit/flag", data={"flag-flag": "1", "flag-reason": "再次"})
    assert response.status_code == 409 and "标记已被他人更改" in text(response)

    response = client.post(f"/buyers/{buyer.id}/credit/flag", data={"flag-flag": "0", "flag-reason": "核实后解除"})
    assert response.status_code == 302
    page = text(client.get(f"/buyers/{buyer.id}/credit"))
    assert "标记已解除。" in page and "无恶意退款标记" in page
    assert page.index("核实后解除") < page.index("多次恶意退款")  # newest first

    bad = client.post(f"/buyers/{buyer.id}/credit/flag", data={"flag-flag": "maybe", "flag-reason": "x"})
    assert bad.status_code == 422 and fresh(type(buyer), buyer.id).is_malicious_refund is False


def test_the_credit_api_for_mediators_and_admins(ctx, app, T):
    buyer, mediator = make_user("buyer"), make_user("mediator")
    old = dismissed_complaint(buyer, mediator, T - timedelta(days=100))
    cid, seller = complaint(buyer, T)
    to_review(cid, seller, mediator, T)
    propose(cid, mediator, T, "dismiss")
    client = app.test_client()

    def get(user, buyer_id=buyer.id):
        return client.get(f"/api/v1/buyers/{buyer_id}/credit", headers={"Authorization": f"Bearer {issue_token(user)}"})

    body = get(mediator).get_json()
    zero = dict.fromkeys(("requests", "complaints", "withdrawn", "rulings_against", "dismissed", "malicious",
                          "ratings"), 0)
    assert body == {"buyer_id": buyer.id, "flagged": False, "window_days": 90, "flag_history": [],
                    "all_time": zero | {"complaints": 2, "rulings_against": 1, "dismissed": 1},
                    "window": zero | {"complaints": 1}}
    assert get(make_user("admin")).status_code == 200
    assert get(make_user("mediator")).status_code == 404   # sees no case of this buyer
    assert get(mediator, seller.id).status_code == 404     # not a buyer
    for user in (buyer, seller, make_user("buyer")):
        assert get(user).status_code == 403
    assert case_of(old).state == "dismissed"


def test_an_admin_flags_and_clears_through_the_api(ctx, app, T):
    buyer, admin, mediator = make_user("buyer"), make_user("admin"), make_user("mediator")
    client = app.test_client()

    def post(user, body, buyer_id=buyer.id):
        return client.post(f"/api/v1/buyers/{buyer_id}/flag", json=body,
                           headers={"Authorization": f"Bearer {issue_token(user)}"})

    for user in (mediator, buyer, make_user("seller")):
        assert post(user, {"flagged": True, "reason": "x"}).status_code == 403
    response = post(admin, {"flagged": True, "reason": "  "})
    assert response.status_code == 422 and response.get_json()["error"]["details"] == {"reason": "required"}
    assert post(admin, {"flagged": "yes", "reason": "x"}).status_code == 422
    assert post(admin, {"flagged": True, "reason": "x", "extra": 1}).status_code == 422
    assert post(admin, {"flagged": True, "reason": "x"}, buyer_id=admin.id).status_code == 404
    assert post(admin, {"flagged": False, "reason": "x"}).status_code == 409
    response = post(admin, {"flagged": True, "reason": "恶意退款团伙"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["flagged"] is True
    (event,) = body["flag_history"]
    assert {k: event[k] for k in ("action", "source", "actor_id", "reason", "case_id")} == {
        "action": "flag", "source": "admin", "actor_id": admin.id, "reason": "恶意退款团伙", "case_id": None}
    assert post(admin, {"flagged": True, "reason": "again"}).status_code == 409
    assert post(admin, {"flagged": False, "reason": "解除"}).get_json()["flagged"] is False
    assert fresh(type(buyer), buyer.id).is_malicious_refund is False
