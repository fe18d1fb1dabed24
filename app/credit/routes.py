"""Buyer credit pages: /buyers/<id>/credit (mediators who see a case of the buyer, admins) with the figures, the
malicious-refund flag, its history and the admin's form to set or clear it; and the panel beside a case."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.policy import role_required
from ..errors import Conflict, Invalid, NotFound
from ..rules import get_rules
from ..timeutil import utcnow
from ..web import place_problems
from .forms import FlagForm
from .queries import credit_for
from .services import set_flag

bp = Blueprint("credit", __name__)


@bp.app_template_global()
def buyer_credit(case):
    """The credit of the case's buyer for the panel beside the case: mediators and admins only."""
    if not current_user.is_authenticated or current_user.role not in ("mediator", "admin"):
        return None
    try:
        return credit_for(current_user, case.buyer_id, now=utcnow(), rules=get_rules())
    except NotFound:
        return None


def _page(buyer_id, form=None, status=200):
    credit = credit_for(current_user, buyer_id, now=utcnow(), rules=get_rules())
    if form is None and current_user.role == "admin":
        form = FlagForm(prefix="flag", flag="0" if credit.flagged else "1")
    return render_template("credit/page.html", credit=credit, form=form,
                           flag_dismissed=get_rules()["credit_flag_dismissed"]), status


@bp.route("/buyers/<int:buyer_id>/credit")
@role_required("mediator", "admin")
def buyer_credit_page(buyer_id):
    return _page(buyer_id)


@bp.route("/buyers/<int:buyer_id>/credit/flag", methods=["POST"])
@role_required("admin")
def set_flag_page(buyer_id):
    credit_for(current_user, buyer_id, now=utcnow(), rules=get_rules())  # 404 before anything else
    form = FlagForm(prefix="flag")
    form.general_errors = []
    if form.validate_on_submit():
        try:
            buyer = set_flag(buyer_id, actor=current_user, flagged={"1": True, "0": False}.get(form.flag.data),
                             reason=form.reason.data)
        except Invalid as err:
            place_problems(form, err.details, {"reason": "reason"})
        except Conflict:
            flash(_("The flag was changed meanwhile; the page shows it as it is now."), "error")
            return _page(buyer_id, None, 409)
        else:
            flash(_("The buyer is flagged: no platform advances.") if buyer.is_malicious_refund
                  else _("The flag is cleared."), "success")
            return redirect(url_for("credit.buyer_credit_page", buyer_id=buyer_id))
    return _page(buyer_id, form, 422)
