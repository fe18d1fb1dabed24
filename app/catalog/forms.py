from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Optional


class ReturnAddressForm(FlaskForm):
    """退货地址; the service checks the values (problems shown beside the fields)."""
    contact = StringField(_l("Contact name"), validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional()])
    address = StringField(_l("Address"), validators=[Optional()])
    is_default = BooleanField(_l("Default address"))
