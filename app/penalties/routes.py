"""A shop's standing: its seller, mediators and admins read it; admins lift a restriction or a blacklist."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflows.penalties import MAX_RESTRICT_DAYS, next_threshold, restriction_scale

from ..auth.policy import can_view_shop_standing, role_required
from ..errors import Conflict, Invalid
from ..rules import get_rules
from ..timeutil import utcnow
from ..web import page_arg, place_problems
from .forms import LiftForm
from .queries import get_shop, penalised_shops, penalties_of, standing_events, standing_of
from .services import lift_restriction, remove_blacklist

bp = Blueprint("penalties", __name__)


@bp.app_template_global("shop_standing")
def shop_standing_global(shop):
    """templates/penalties/_standing.html: the shop's standing now."""
    return standing_of(shop, utcnow(), get_rules())


def _visible_shop(shop_id):
    shop = get_shop(shop_id)
    if not can_view_shop_standing(current_user, shop):
        abort(404)
    return shop


def _page(shop, form=None, status=200):
    return render_template("penalties/standing.html", shop=shop, penalties=penalties_of(shop.id),
                           form=form or LiftForm(prefix="lift"), rules=get_rules(),
                           scale=restriction_scale(get_rules()), max_restrict_days=MAX_RESTRICT_DAYS,
                           events=standing_events(shop.id)), status


@bp.route("/shops/<int:shop_id>/standing")
@role_required("seller", "mediator", "admin")
def standing(shop_id):
    return _page(_visible_shop(shop_id))


@bp.route("/shops/<int:shop_id>/standing/<what>", methods=["POST"])
@role_required("admin")
def lift(shop_id, what):
    service = {"restriction": lift_restriction, "blacklist": remove_blacklist}.get(what)
    shop = _visible_shop(shop_id)
    if service is None:
        abort(404)
    form = LiftForm(prefix="lift")
    form.general_errors = []
    if form.validate_on_submit():
        try:
            service(actor=current_user, shop_id=shop.id, reason=form.reason.data)
        except (Invalid, Conflict) as err:
            place_problems(form, err.details, {"reason": "reason"})
        else:
            flash(_("Restriction lifted.") if what == "restriction" else _("Blacklist removed: the shop is open again."),
                  "success")
            return redirect(url_for("penalties.standing", shop_id=shop.id))
    return _page(shop, form, 422)


@bp.route("/shops/penalised")
@role_required("mediator", "admin")
def penalised():
    page, now, rules = page_arg(), utcnow(), get_rules()
    shops, total = penalised_shops(page, now, rules)
    rows = [(shop, shop_standing_global(shop), next_threshold(points, rules)) for shop, points in shops]
    return render_template("penalties/list.html", rows=rows, total=total, page=page, per_page=50)
