"""Page forms built from the action field table (workflows/fields.py), so every action the
rule book allows gets a working form without per-action code."""
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import MultipleFileField
from wtforms import (DecimalField, HiddenField, IntegerField, SelectChoice, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation

from workflows.fields import FIELDS, MAX_FEN
from workflows.rules import COMPLAINT_TYPES

from ..evidence.models import EVIDENCE_KINDS
from ..labels import label

LONG_TEXT = ("reason", "note", "description", "statement", "findings")
FIELD_LABELS = {
    "amount_fen": _l("Amount (¥)"), "note": _l("Note"), "reason": _l("Reason"), "type": _l("Complaint type"),
    "description": _l("Description"), "carrier": _l("Carrier"), "tracking_no": _l("Tracking number"),
    "statement": _l("Statement"), "party": _l("From whom"), "remedy": _l("Remedy"), "findings": _l("Findings"),
    "rule": _l("Rule applied"), "return_address_id": _l("Return address"),
}
CHOICE_GROUPS = {"type": "complaint_type", "carrier": "carrier", "party": "party", "remedy": "remedy"}


def yuan(form, field):
    """An amount in yuan is a finite number to the fen: 50.125 is refused, never rounded."""
    value = field.data
    if value is None:
        return
    if not value.is_finite() or abs(value) > Decimal(MAX_FEN).scaleb(-2):
        raise StopValidation(_("Not a valid amount."))
    if value != value.quantize(Decimal("0.01")):
        raise StopValidation(_("At most two decimal places: amounts are in yuan and fen."))


def to_fen(amount_yuan):
    """Yuan (a Decimal checked by `yuan`) to integer fen, exactly."""
    return int(amount_yuan.scaleb(2))


def _int_or_none(value):
    return int(value) if value not in (None, "") else None


def _shop_return_addresses(form, field):
    """The acting seller's return addresses (default first), for agreeing to a return or exchange."""
    from flask_login import current_user

    from ..catalog.queries import return_addresses
    rows = return_addresses(getattr(current_user, "shop_id", None))
    return [SelectChoice(a.id, f"{a.contact} {a.phone} · {a.address}") for a in rows] or [
        SelectChoice("", _("No return address yet: add one under Return addresses"))]


def _return_address_field():
    return SelectField(FIELD_LABELS["return_address_id"], coerce=_int_or_none, validate_choice=False,
                       choices=_shop_return_addresses, validators=[Optional()])


CONTROLS = {"return_address_id": _return_address_field}  # fields whose control is not the type's default


def _field(name):
    if name in CONTROLS:
        return CONTROLS[name]()
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
                      | {"expected_version": VersionField(validators=[Optional()])})
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
    """The after-sales request (售后申请) on the order page; its choices come from the rules for this
    order now (`request_form`), and the service checks them again."""
    kind = SelectField(_l("What do you want?"), validate_choice=False)
    reason = SelectField(_l("Reason"), validate_choice=False)
    amount = DecimalField(_l("Amount (¥)"), places=2, validators=[Optional(), yuan, NumberRange(min=Decimal("0"))])
    items = SelectMultipleField(_l("Which items?"), coerce=int, validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    photos = MultipleFileField(_l("Photos"))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


def request_form(order, options, **kwargs):
    """The request form offering only what `options` (cases.services.request_options) allows."""
    form = OpenCaseForm(prefix="case", **kwargs)
    form.kind.choices = [SelectChoice(k, label("kind", k)) for k in options.kinds]
    # reasons grouped by kind, so the page (and a small script) shows which reasons go with which kind
    form.reason.choices = {str(label("kind", k)): [SelectChoice(r, label("reason", r)) for r in reasons]
                           for k, reasons in options.kinds.items()}
    form.items.choices = [SelectChoice(i.id, f"{i.title} ×{i.quantity}") for i in order.items]
    if form.amount.data is None and not form.is_submitted():
        form.amount.data = Decimal(options.max_fen).scaleb(-2)
    return form


class ComplaintForm(FlaskForm):
    """我要投诉: a complaint about an order or a listing."""
    type = SelectField(_l("Complaint type"), validate_choice=False,
                       choices=[SelectChoice(c, label("complaint_type", c)) for c in COMPLAINT_TYPES])
    description = TextAreaField(_l("What happened?"), validators=[Optional(), Length(max=5000)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=5000)])


class EvidenceForm(FlaskForm):
    """Rendered on the page; the upload itself is parsed by the streaming parser (no CSRF field in
    the multipart body is read by WTForms, so the token travels in the query string)."""
    file = FileField(_l("File"))
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, label("evidence_kind", k)) for k in EVIDENCE_KINDS])
    description = StringField(_l("Description"), validators=[Length(max=1000)])
