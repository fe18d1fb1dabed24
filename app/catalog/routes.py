"""Seller pages of the catalog: the shop's return addresses (退货地址)."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.policy import role_required
from ..errors import Invalid
from ..web import place_problems
from .forms import ReturnAddressForm
from .queries import get_return_address, return_addresses
from .services import save_return_address

bp = Blueprint("catalog", __name__)
FIELDS = {"contact": "contact", "phone": "phone", "address": "address"}


def _page(form, editing=None, status=200):
    return render_template("catalog/return_addresses.html", addresses=return_addresses(current_user.shop_id),
                           form=form, editing=editing), status


def _save(form, address_id=None, editing=None):
    form.general_errors = []
    if form.validate_on_submit():
        try:
            save_return_address(actor=current_user, contact=form.contact.data, phone=form.phone.data,
                                address=form.address.data, is_default=form.is_default.data, address_id=address_id)
        except Invalid as err:
            place_problems(form, err.details, FIELDS)
        else:
            flash(_("Return address saved."), "success")
            return redirect(url_for("catalog.return_addresses_page"))
    return _page(form, editing, 422)


@bp.route("/shop/return-addresses", methods=["GET", "POST"])
@role_required("seller")
def return_addresses_page():
    form = ReturnAddressForm(prefix="address")
    if form.is_submitted():
        return _save(form)
    return _page(form)


@bp.route("/shop/return-addresses/<int:address_id>", methods=["GET", "POST"])
@role_required("seller")
def edit_return_address(address_id):
    address = get_return_address(current_user, address_id)
    form = ReturnAddressForm(prefix="address", obj=address)
    if form.is_submitted():
        return _save(form, address.id, address)
    return _page(form, address)
