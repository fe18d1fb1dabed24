"""After-sales rating (once, only the buyer, only closed cases, 1–5) through the service, the page and the
API; the metrics API and the service dashboard as each role sees them."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.services import issue_token
from app.cases.models import CaseRating
from app.cases.services import open_case, perform_action
from app.errors import ActionNotAvailable, Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.metrics.services import rate_case, rebuild_rollups
from app.timeutil import utcnow

from ..api.helpers import assert_error
from ..factories import make_order, make_shop, make_user


def bearer(user):
    return {"Authorization": f"Bearer {issue_token(user)}"}


def ratings():
    return db.session.execute(select(func.count()).select_from(CaseRating)).scalar_one()


@pytest.fixture
def closed(ctx):
    """A refund the seller agreed 30 minutes after the request (today): the case is closed, resolved."""
    now = utcnow() - timedelta(hours=1)
    order, buyer, seller = make_order(state="paid", now=now)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=now)
    perform_action(case.id, "agree", actor=seller, now=now + timedelta(minutes=30))
    return case.id, buyer, seller


def test_the_buyer_rates_a_closed_case_once(closed):
    cid, buyer, seller = closed
    rating = rate_case(cid, actor=buyer, score=4, comment="  退款很快  ")
    assert (rating.score, rating.comment, rating.shop_id) == (4, "退款很快", seller.shop_id)
    with pytest.raises(Conflict):
        rate_case(cid, actor=buyer, score=5)
    assert ratings() == 1


@pytest.mark.parametrize("score", [0, 6, None, "5", 4.5, True])
def test_a_score_outside_1_to_5_is_refused(closed, score):
    cid, buyer, _ = closed
    with pytest.raises(Invalid) as err:
        rate_case(cid, actor=buyer, score=score)
    assert set(err.value.details) == {"score"}
    assert ratings() == 0


def test_only_the_buyer_rates_and_others_do_not_learn_of_the_case(closed):
    cid, buyer, seller = closed
    with pytest.raises(Forbidden):
        rate_case(cid, actor=seller, score=5)
    with pytest.raises(Forbidden):
        rate_case(cid, actor=make_user("admin"), score=5)
    with pytest.raises(NotFound):
        rate_case(cid, actor=make_user("buyer"), score=5)
    assert ratings() == 0


def test_an_open_case_cannot_be_rated(ctx):
    order, buyer, _ = make_order(state="paid")
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=1_000)
    with pytest.raises(ActionNotAvailable):
        rate_case(case.id, actor=buyer, score=3)
    assert ratings() == 0


def test_the_rating_form_on_the_closed_case_page(closed, client, login_as):
    cid, buyer, seller = closed
    login_as(buyer)
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert 'action="/cases/%d/rating"' % cid in page and "评价本次售后处理" in page
    bad = client.post(f"/cases/{cid}/rating", data={"rating-score": "9", "rating-comment": "x"})
    assert bad.status_code == 422 and "请选择 1 到 5 分" in bad.get_data(as_text=True)
    done = client.post(f"/cases/{cid}/rating", data={"rating-score": "2", "rating-comment": "回复太慢"})
    assert done.status_code == 302
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "2 分（满分 5 分）" in page and "回复太慢" in page and 'action="/cases/%d/rating"' % cid not in page
    again = client.post(f"/cases/{cid}/rating", data={"rating-score": "5"})
    assert again.status_code == 409 and "该案件已评价过" in again.get_data(as_text=True)
    client.post("/logout")
    assert f'href="/shops/{seller.shop_id}/service"' not in page  # a buyer does not see the shop's metrics
    login_as(seller)  # the seller sees the rating, no form, and a link to its shop's service dashboard
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "回复太慢" in page and "提交评价" not in page and f'href="/shops/{seller.shop_id}/service"' in page


def test_rating_through_the_api(closed, client):
    cid, buyer, seller = closed
    assert_error(client.post(f"/api/v1/cases/{cid}/rating", headers=bearer(buyer), json={"score": 7}), 422, "invalid")
    assert_error(client.post(f"/api/v1/cases/{cid}/rating", headers=bearer(seller), json={"score": 5}), 403,
                 "forbidden")
    response = client.post(f"/api/v1/cases/{cid}/rating", headers=bearer(buyer), json={"score": 5, "comment": "好"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["case_id"], body["score"], body["comment"], body["shop_id"]) == (cid, 5, "好", seller.shop_id)
    assert_error(client.post(f"/api/v1/cases/{cid}/rating", headers=bearer(buyer), json={"score": 4}), 409, "conflict")


def test_the_metrics_api(closed, client):
    cid, buyer, seller = closed
    rate_case(cid, actor=buyer, score=4)
    rebuild_rollups()
    response = client.get(f"/api/v1/shops/{seller.shop_id}/metrics", headers=bearer(seller))
    assert response.status_code == 200
    body = response.get_json()
    today = (utcnow() + timedelta(hours=8)).date()  # the Beijing calendar day
    assert body["window"] == {"days": 30, "first_day": (today - timedelta(days=29)).isoformat(),
                              "last_day": today.isoformat()}
    figures = body["figures"]
    # one paid order, one refund the seller agreed after 30 minutes (bucket 30–60), one rating of 4
    assert {k: figures[k] for k in ("paid_orders", "refunds", "agreed_refunds", "timeout_refunds", "refund_rate",
                                    "rating_average", "median_response_under_minutes")} == {
        "paid_orders": 1, "refunds": 1, "agreed_refunds": 1, "timeout_refunds": 0, "refund_rate": 1.0,
        "rating_average": 4.0, "median_response_under_minutes": 60}
    assert body["category_average"] == figures  # the only shop of its category
    assert client.get(f"/api/v1/shops/{seller.shop_id}/metrics", headers=bearer(make_user("mediator"))).status_code \
        == 200
    for other in (buyer, make_user("seller")):
        assert_error(client.get(f"/api/v1/shops/{seller.shop_id}/metrics", headers=bearer(other)), 404, "not_found")


def test_the_service_dashboard(closed, client, login_as):
    cid, buyer, seller = closed
    rebuild_rollups()
    login_as(seller)
    page = client.get("/service").get_data(as_text=True)
    assert "服务质量" in page and "纠纷退款率" in page and "类目均值" in page and "暂无处罚" in page
    assert page.count("<svg") == 2 and "100.0%" in page  # refund rate: 1 refund / 1 paid order
    assert 'href="/service"' in page  # the nav link
    # the shop is alone in its category: the page says the average is its own figures, and its lines are on top
    assert page.count("本类目仅本店，均值即本店数据。") == 2
    assert page.index('chart-s1"') < page.index('chart-s0 chart-strong"')
    assert make_shop().category == seller.shop.category  # a second shop of the same category
    assert "本类目仅本店" not in client.get("/service").get_data(as_text=True)
