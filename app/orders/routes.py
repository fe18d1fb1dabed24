from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.policy import can_see_ledger, role_required
from ..catalog.forms import BuyForm
from ..catalog.queries import get_listing, shop_standing
from ..labels import label
from ..cases.forms import MessageForm, request_form
from ..cases.queries import actions_for, case_badges, case_tasks, cases_of_order
from ..cases.services import request_options
from ..rules import get_rules
from ..timeutil import utcnow
from ..chat.queries import order_messages
from ..web import page_arg
from .forms import CONFIRMATIONS, ConfirmForm, ShipForm
from .models import ORDER_STATUSES
from .queries import get_order, ledger_for, money_for, orders_for
from .services import create_order, order_actions, perform_order_action

bp = Blueprint("orders", __name__)


def _list(template, title):
    status = request.args.get("status")
    status = status if status in ORDER_STATUSES else None
    page = page_arg()
    orders, total = orders_for(current_user, status=status, page=page, per_page=20)
    ids = [o.id for o in orders]
    return render_template(template, title=title, orders=orders, total=total, page=page, per_page=20,
                           status=status, statuses=ORDER_STATUSES, badges=case_badges(current_user, ids),
                           money=money_for(ids))


@bp.route("/orders")
@role_required("buyer", "admin")
def my_orders():
    return _list("orders/list.html", _("My orders") if current_user.role == "buyer" else _("All orders"))


@bp.route("/shop/orders")
@role_required("seller")
def shop_orders():
    return _list("orders/list.html", _("Shop orders"))


@bp.route("/orders/<int:order_id>")
@role_required("buyer", "seller", "mediator", "admin")
def detail(order_id):
    return order_page(get_order(current_user, order_id))


def order_page(order, *, case_form=None, status=200):
    """The order page; `case_form` is a request form sent back with its problems (422)."""
    cases = cases_of_order(current_user, order.id)
    open_case = next((c for c in cases if c.phase != "closed"), None)
    options = request_options(order, get_rules(), utcnow()) if current_user.role == "buyer" else None
    if options is not None and options.kinds and open_case is None and case_form is None:
        case_form = request_form(order, options)
    entries = ledger_for(order.id, full=can_see_ledger(current_user), case_ids=[c.id for c in cases])
    return render_template("orders/detail.html", order=order, money=money_for([order.id])[order.id],
                           entries=entries, actions=order_actions(order, current_user),
                           standing=shop_standing(order.shop, utcnow()),
                           ship_form=ShipForm(), form=FlaskForm(), confirmations=CONFIRMATIONS, cases=cases,
                           tasks_by_case=case_tasks([c.id for c in cases]), open_case=open_case,
                           options=options, rules=get_rules(), case_form=case_form if open_case is None else None,
                           case_actions=dict(actions_for(open_case, current_user)) if open_case else {},
                           chat=order_messages(order.id, per_page=500)[0],
                           chat_form=MessageForm(prefix="chat")), status


@bp.route("/orders/new", methods=["POST"])
@role_required("buyer")
def create():
    """A buyer orders one listing from its shop's page; a refusal (not on sale, the shop restricted or
    closed) is flashed on that page by the error handler."""
    form = BuyForm(prefix="buy")
    raw = form.listing_id.data or ""
    listing = get_listing(int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None)
    if not form.validate_on_submit():
        flash(_("Please check the form: %(errors)s", errors="; ".join(
            f"{getattr(form, k).label.text}: {', '.join(map(str, v))}" for k, v in form.errors.items())), "error")
        return redirect(url_for("catalog.shop", shop_id=listing.shop_id))
    order = create_order(buyer=current_user, items=[(listing, form.quantity.data)], address=form.address.data.strip())
    flash(_("Order placed: please pay for it."), "success")
    return redirect(url_for("orders.detail", order_id=order.id))


@bp.route("/orders/<int:order_id>/actions/<trigger>", methods=["POST"])
@role_required("buyer", "seller")
def action(order_id, trigger):
    order = get_order(current_user, order_id)
    form = ShipForm() if trigger == "ship" else ConfirmForm() if trigger in CONFIRMATIONS else FlaskForm()
    if not form.validate_on_submit():
        flash(_("Please check the form: %(errors)s", errors="; ".join(
            f"{getattr(form, k).label.text}: {', '.join(map(str, v))}" for k, v in form.errors.items())), "error")
        return redirect(url_for("orders.detail", order_id=order.id))
    perform_order_action(order.id, trigger, actor=current_user,
                         data={k: v for k, v in form.data.items() if k != "csrf_token"})
    flash(_("Done: %(action)s", action=label("action", trigger)), "success")
    return redirect(url_for("orders.detail", order_id=order.id))
