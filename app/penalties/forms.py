from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Optional


class LiftForm(FlaskForm):
    """An admin lifts a restriction or removes a blacklist; the service checks the reason."""
    reason = TextAreaField(_l("Reason"), validators=[Optional()])
