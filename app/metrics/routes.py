"""The seller's service dashboard (卖家服务质量) and the buyer's after-sales rating form."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.policy import role_required
from ..cases.queries import get_case
from ..charts import line_chart, percent
from ..errors import ActionNotAvailable, Conflict, Invalid
from ..rules import get_rules
from ..timeutil import local_date, utcnow
from .forms import RatingForm
from .queries import get_shop_service, shop_metrics, shop_penalties, trend
from .services import rate_case

bp = Blueprint("metrics", __name__)


def _trend_chart(shop, today, days, step, window, title):
    shop_points, category_points = trend(shop, today, days, step, window)
    series = [(_("This shop: dispute refund rate"), [(x, f.dispute_refund_rate) for x, f in shop_points]),
              (_("Category: dispute refund rate"), [(x, f.dispute_refund_rate) for x, f in category_points]),
              (_("This shop: refund rate"), [(x, f.refund_rate) for x, f in shop_points]),
              (_("Category: refund rate"), [(x, f.refund_rate) for x, f in category_points])]
    # the shop's own lines on top (a shop alone in its category has the same values as the average), and
    # narrow with few labels so the text stays legible on a phone (as the overview's charts)
    return title, line_chart(series, title=title, fmt=percent, strong=(0, 2), width=520, max_labels=6)


def _dashboard(shop):
    today = local_date(utcnow())
    metrics = shop_metrics(shop, today, get_rules()["metrics_window_days"])
    window = metrics.days
    charts = [_trend_chart(shop, today, 30, 1, window, _("Last 30 days, by day")),
              _trend_chart(shop, today, 91, 7, window, _("Last 13 weeks, by week"))]
    return render_template("metrics/service.html", shop=shop, m=metrics, charts=charts,
                           penalties=shop_penalties(shop.id))


@bp.route("/service")
@role_required("seller")
def my_service():
    return _dashboard(get_shop_service(current_user, current_user.shop_id))


@bp.route("/shops/<int:shop_id>/service")
@login_required
def shop_service(shop_id):
    return _dashboard(get_shop_service(current_user, shop_id))


@bp.route("/cases/<int:case_id>/rating", methods=["POST"])
@login_required
def rate(case_id):
    """The service decides (404 / 403 / the fields / closed and not yet rated: the CSRF check ran before);
    a refused rating shows the form again with the reason in place, on its own small page."""
    case = get_case(current_user, case_id)
    form = RatingForm(prefix="rating")
    form.validate()
    try:
        rate_case(case.id, actor=current_user, score=form.score.data, comment=form.comment.data or "")
    except Invalid as err:
        for name, problem in err.details.items():
            getattr(form, name).errors = [_("Choose a score from 1 to 5.") if name == "score"
                                          else _("At most 1000 characters.")]
        return render_template("metrics/rate.html", case=case, form=form, message=None), 422
    except ActionNotAvailable:
        message = _("The case can be rated once it is closed.")
    except Conflict:
        message = _("This case has already been rated.")
    else:
        flash(_("Thank you: your rating was saved."), "success")
        return redirect(url_for("cases.detail", case_id=case.id) + "#rating")
    return render_template("metrics/rate.html", case=case, form=form, message=message), 409
