from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..labels import label
from ..shipping.models import CARRIERS


class ShipForm(FlaskForm):
    carrier = SelectField(_l("Carrier"), choices=[SelectChoice(c, label("carrier", c)) for c in CARRIERS], validators=[DataRequired()])
    tracking_no = StringField(_l("Tracking number"), validators=[DataRequired(), Length(max=64)])
