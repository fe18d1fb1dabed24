from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

SCORES = (5, 4, 3, 2, 1)


class RatingForm(FlaskForm):
    """售后服务评价: the same fields the case page's rating partial (templates/metrics/_rating.html) sends."""
    score = SelectField(_l("Your score (1–5)"), coerce=int, validators=[InputRequired()],
                        choices=[SelectChoice(s, str(s)) for s in SCORES])
    comment = TextAreaField(_l("Your comment"), validators=[Length(max=1000)])
