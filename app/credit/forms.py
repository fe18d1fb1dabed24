from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Optional


class FlagForm(FlaskForm):
    """An admin sets (flag=1) or clears (flag=0) a buyer's malicious-refund flag; the service checks the reason."""
    flag = HiddenField()
    reason = TextAreaField(_l("Reason (kept in the audit log)"), validators=[Optional()])
