"""Page forms built from the action field table (workflows/fields.py), so every action the
rule book allows gets a working form without per-action code."""
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DecimalField, HiddenField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation

from workflows.fields import FIELDS, MAX_FEN

from ..evidence.models import EVIDENCE_KINDS
from ..labels import label

LONG_TEXT = ("reason", "note", "description", "statement", "findings")
FIELD_LABELS = {
    "amount_fen": _l("Amount (¥)"), "note": _l("Note"), "reason": _l("Reason"), "type": _l("Complaint type"),
    "description": _l("Description"), "carrier": _l("Carrier"), "tracking_no": _l("Tracking number"),
    "statement": _l("Statement"), "party": _l("From whom"), "remedy": _l("Remedy"), "findings": _l("Findings"),
    "rule": _l("Rule applied"),
}
CHOICE_GROUPS = {"type": "complaint_type", "carrier": "carrier", "party": "party", "remedy": "remedy"}


def yuan(form, field):
    """An amount in yuan is a finite number to the fen: 50.125 is refused, never rounded."""
    value = field.data
    if value is None:
        return
    if not value.is_finite() or value.adjusted() > 12 or abs(value) > Decimal(MAX_FEN).scaleb(-2):
        raise StopValidation(_("Not a valid amount."))
    if value != value.quantize(Decimal("0.01")):
        raise StopValidation(_("At most two decimal places: amounts are in yuan and fen."))


def to_fen(amount_yuan):
    """Yuan (a Decimal checked by `yuan`) to integer fen, exactly."""
    return int(amount_yuan.scaleb(2))


def _field(name):
    kind, required, choices, max_len = FIELDS[name]
    need = [DataRequired()] if required else [Optional()]
    if kind is int:
        return DecimalField(FIELD_LABELS[name], places=2, validators=[InputRequired() if required else Optional(),
                                                                      yuan, NumberRange(min=Decimal("0"))])
    if choices:
        return SelectField(FIELD_LABELS[name], validators=need,
                           choices=[SelectChoice(c, label(CHOICE_GROUPS[name], c)) for c in choices])
    field = TextAreaField if name in LONG_TEXT else StringField
    return field(FIELD_LABELS[name], validators=need + ([Length(max=max_len)] if max_len else []))


class VersionField(IntegerField):
    """The case version the page was rendered from, sent back hidden so a stale action is refused."""
    widget = HiddenField.widget


def action_form(fields, version=None, **kwargs):
    """A FlaskForm class with one input per action field and the case version the page showed;
    `form_values` gives the service's data."""
    form_class = type("ActionForm", (FlaskForm,), {name: _field(name) for name in fields}
                      | {"expected_version": VersionField(_l("Page version"), validators=[InputRequired(_l(
                          "This page is out of date; please reload it and try again."))])})
    form = form_class(**kwargs)
    if version is not None and form.expected_version.data is None:
        form.expected_version.data = version
    form.action_fields = tuple(fields)
    return form


def form_values(form):
    """The form's data as the service expects it: money in fen, blanks dropped."""
    data = {}
    for name in form.action_fields:
        value = form[name].data
        if name == "amount_fen" and value is not None:
            value = to_fen(value)
        if value not in (None, ""):
            data[name] = value
    return data


class OpenCaseForm(FlaskForm):
    kind = SelectField(_l("What do you want?"), validators=[DataRequired()])
    reason = SelectField(_l("Reason"), validators=[DataRequired()])
    amount_fen = DecimalField(_l("Amount (¥)"), places=2,
                              validators=[InputRequired(), yuan, NumberRange(min=Decimal("0"))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=5000)])


class EvidenceForm(FlaskForm):
    """Rendered on the page; the upload itself is parsed by the streaming parser (no CSRF field in
    the multipart body is read by WTForms, so the token travels in the query string)."""
    file = FileField(_l("File"))
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, label("evidence_kind", k)) for k in EVIDENCE_KINDS])
    description = StringField(_l("Description"), validators=[Length(max=1000)])
