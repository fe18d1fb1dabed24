"""Catalog pages: the seller's listings (发布 / 上架 / 下架) and return addresses (退货地址); the shops and
their listings on sale, for buyers to order from."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.policy import role_required
from ..errors import Invalid, ShopNotSelling
from ..timeutil import utcnow
from ..web import page_arg, place_problems
from .forms import BuyForm, ListingForm, ReturnAddressForm
from .queries import get_return_address, get_shop, listings_of, return_addresses, shop_standing, shops_page
from .services import publish_listing, save_return_address, set_listing_on_sale

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


def _listings(form, status=200):
    if current_user.shop is None:
        abort(404)
    return render_template("catalog/listings.html", listings=listings_of(current_user.shop_id), form=form,
                           standing=shop_standing(current_user.shop, utcnow())), status


@bp.route("/shop/listings", methods=["GET", "POST"])
@role_required("seller")
def listings_page():
    form = ListingForm(prefix="listing")
    if not form.is_submitted():
        form.category.data = current_user.shop.category if current_user.shop else None  # the main category
        return _listings(form)
    form.general_errors = []
    if form.validate():
        try:
            publish_listing(actor=current_user, title=form.title.data, category=form.category.data,
                            price_fen=int(form.price.data.scaleb(2)), ship_within_hours=form.ship_within_hours.data,
                            service_promises=form.service_promises.data or [])
        except (Invalid, ShopNotSelling) as err:
            place_problems(form, err.details, {"title": "title", "category": "category", "price_fen": "price",
                                               "ship_within_hours": "ship_within_hours",
                                               "service_promises": "service_promises"})
        else:
            flash(_("Listing published."), "success")
            return redirect(url_for("catalog.listings_page"))
    return _listings(form, 422)


@bp.route("/shop/listings/<int:listing_id>/<any(on_sale, take_down):action>", methods=["POST"])
@role_required("seller")
def listing_status(listing_id, action):
    form = FlaskForm()
    if form.validate_on_submit():  # a refusal (restricted, penalised listing) is flashed by the error handler
        set_listing_on_sale(actor=current_user, listing_id=listing_id, on_sale=action == "on_sale")
        flash(_("Listing put on sale.") if action == "on_sale" else _("Listing taken down."), "success")
    return redirect(url_for("catalog.listings_page"))


@bp.route("/shops")
@role_required("buyer", "mediator", "admin")
def shops():
    page = page_arg()
    rows, total = shops_page(page, per_page=50)
    return render_template("catalog/shops.html", shops=rows, total=total, page=page, per_page=50, now=utcnow())


@bp.route("/shops/<int:shop_id>")
@role_required("buyer", "mediator", "admin")
def shop(shop_id):
    shop = get_shop(shop_id)
    if shop is None:
        abort(404)
    return render_template("catalog/shop.html", shop=shop, standing=shop_standing(shop, utcnow()),
                           listings=listings_of(shop.id, on_sale_only=True), buy_form=BuyForm(prefix="buy"))
