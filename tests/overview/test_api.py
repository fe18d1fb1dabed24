"""GET /api/v1/analysis/reasons: the same figures as the page, for mediators and admins, with API.md errors."""
from datetime import datetime

from ..api.helpers import assert_error, token_for
from ..factories import make_user
from .helpers import complaint, request


def test_mediators_get_the_figures_per_week(ctx, client):
    request(datetime(2026, 11, 8, 15, 59, 59), reason="quality")     # Sunday 11-08 local
    request(datetime(2026, 11, 8, 16, 0), reason="quality")          # Monday 11-09 local
    complaint(datetime(2026, 11, 10, 3, 0), category="toys", type="not_shipped", respond=False)
    headers = token_for(client, make_user("mediator"))

    response = client.get("/api/v1/analysis/reasons?date_from=2026-11-02&date_to=2026-11-15", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {
        "date_from": "2026-11-02", "date_to": "2026-11-15", "group": "week", "category": None, "shop": None,
        "periods": ["2026-11-02", "2026-11-09"], "total": 3,
        "rows": [{"dimension": "reason", "code": "quality", "category": "home", "period": "2026-11-02", "cases": 1},
                 {"dimension": "reason", "code": "quality", "category": "home", "period": "2026-11-09", "cases": 1},
                 {"dimension": "complaint_type", "code": "not_shipped", "category": "toys", "period": "2026-11-09",
                  "cases": 1}]}
    toys = client.get("/api/v1/analysis/reasons?date_from=2026-11-02&date_to=2026-11-15&category=toys&group=month",
                      headers=headers).get_json()
    assert (toys["total"], toys["periods"], [r["period"] for r in toys["rows"]]) == (1, ["2026-11-01"], ["2026-11-01"])


def test_buyers_and_sellers_are_refused(ctx, client):
    for role in ("buyer", "seller"):
        assert_error(client.get("/api/v1/analysis/reasons", headers=token_for(client, make_user(role))),
                     403, "forbidden")


def test_bad_filters_are_422_per_field(ctx, client):
    headers = token_for(client, make_user("admin"))
    error = assert_error(client.get("/api/v1/analysis/reasons?date_from=2026-02-30&group=day&category=",
                                    headers=headers), 422, "invalid")
    assert set(error["details"]) == {"date_from", "group", "category"}
    error = assert_error(client.get("/api/v1/analysis/reasons?date_from=2026-11-10&date_to=2026-11-01",
                                    headers=headers), 422, "invalid")
    assert error["details"] == {"date_from": "not after date_to"}
