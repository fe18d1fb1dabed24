from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..labels import label
from ..shipping.models import CARRIERS


# order steps that cannot be taken back: the page asks the user to tick a confirmation first
CONFIRMATIONS = {
    "confirm_receipt": _l("I have received the goods: the payment goes to the shop and cannot be taken back."),
    "close": _l("Close this order: it cannot be reopened."),
}


class ConfirmForm(FlaskForm):
    confirm = BooleanField(_l("Confirmation"), validators=[DataRequired(message=_l("Please tick this box to confirm."))])


class ShipForm(FlaskForm):
    carrier = SelectField(_l("Carrier"), choices=[SelectChoice(c, label("carrier", c)) for c in CARRIERS], validators=[DataRequired()])
    tracking_no = StringField(_l("Tracking number"), validators=[DataRequired(), Length(max=64)])
