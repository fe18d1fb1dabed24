from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DecimalField, HiddenField, IntegerField, SelectChoice, SelectField,
                     SelectMultipleField, StringField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from ..labels import label
from .models import CATEGORIES, SERVICE_PROMISES


class ReturnAddressForm(FlaskForm):
    """退货地址; the service checks the values (problems shown beside the fields)."""
    contact = StringField(_l("Contact name"), validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional()])
    address = StringField(_l("Address"), validators=[Optional()])
    is_default = BooleanField(_l("Default address"))


def _price(form, field):
    """A price in yuan, to the fen (12.345 is refused, never rounded); the service checks the range."""
    value = field.data
    if value is None or field.errors:
        return
    if not value.is_finite() or value.adjusted() > 12 or value != value.quantize(Decimal("0.01")):
        raise StopValidation(_l("At most two decimal places: amounts are in yuan and fen."))


class ListingForm(FlaskForm):
    """A new listing (发布商品); the service checks the values (problems shown beside the fields)."""
    title = StringField(_l("Title"), validators=[Optional()])
    category = SelectField(_l("Category"), choices=[SelectChoice(c, label("category", c)) for c in CATEGORIES])
    price = DecimalField(_l("Price (¥)"), places=2, validators=[InputRequired(), _price])
    ship_within_hours = IntegerField(_l("Ships within (hours)"), default=48, validators=[InputRequired()])
    service_promises = SelectMultipleField(_l("Service promises"), choices=[SelectChoice(p, label("promise", p)) for p in SERVICE_PROMISES],
                                           widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class BuyForm(FlaskForm):
    """A buyer orders one listing: how many, delivered where."""
    listing_id = HiddenField(validators=[InputRequired()])
    quantity = IntegerField(_l("Quantity"), default=1, validators=[InputRequired(), NumberRange(min=1, max=99)])
    address = StringField(_l("Delivery address"), validators=[InputRequired(), Length(max=255)])
