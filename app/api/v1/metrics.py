"""Seller service metrics and after-sales ratings in the API."""
from flask import g

from ...metrics.queries import get_shop_service, shop_metrics
from ...metrics.services import rate_case
from ...rules import get_rules
from ...timeutil import isoformat, local_date, utcnow
from . import bp, json_body, token_required


def rating_json(rating):
    return {"case_id": rating.case_id, "shop_id": rating.shop_id, "score": rating.score, "comment": rating.comment,
            "created_at": isoformat(rating.created_at)}


@bp.get("/shops/<int:shop_id>/metrics")
@token_required
def shop_metrics_view(shop_id):
    shop = get_shop_service(g.api_user, shop_id)
    m = shop_metrics(shop, local_date(utcnow()), get_rules()["metrics_window_days"])
    return {"shop_id": shop.id, "category": shop.category,
            "window": {"days": m.days, "first_day": m.first.isoformat(), "last_day": m.last.isoformat()},
            "figures": m.shop_figures.as_dict(), "category_average": m.category_figures.as_dict()}


@bp.post("/cases/<int:case_id>/rating")
@token_required
def rate_case_view(case_id):
    data = json_body("score", "comment")
    rating = rate_case(case_id, actor=g.api_user, score=data.get("score"), comment=data.get("comment") or "")
    return rating_json(rating), 201
