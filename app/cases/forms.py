"""Page forms built from the action field table (workflows/fields.py), so every action the
rule book allows gets a working form without per-action code."""
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import MultipleFileField
from wtforms import (BooleanField, DecimalField, FieldList, Form, FormField, HiddenField, IntegerField, SelectChoice,
                     SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from workflows.fields import FIELDS, MAX_FEN, PENALTY_KINDS, PENALTY_NUMBERS, REMEDIES_WITH_AMOUNT
from workflows.rules import COMPLAINT_TYPES

from ..evidence.models import EVIDENCE_KINDS
from ..labels import label

LONG_TEXT = ("reason", "note", "description", "statement", "findings")
FIELD_LABELS = {
    "amount_fen": _l("Amount (¥)"), "note": _l("Note"), "reason": _l("Reason"), "type": _l("Complaint type"),
    "description": _l("Description"), "carrier": _l("Carrier"), "tracking_no": _l("Tracking number"),
    "statement": _l("Statement"), "party": _l("From whom"), "remedy": _l("Remedy"), "findings": _l("Findings"),
    "rule": _l("Rule applied"), "penalties": _l("Penalties"), "return_address_id": _l("Return address"),
    "buyer_malicious": _l("Finding: the buyer is at fault / malicious (once the decision binds, the buyer is flagged: no platform advances)"),
}
CHOICE_GROUPS = {"type": "complaint_type", "carrier": "carrier", "party": "party", "remedy": "remedy"}


def yuan(form, field):
    """An amount in yuan is a finite number to the fen: 50.125 is refused, never rounded."""
    value = field.data
    if value is None or field.errors:  # not a number at all: the field said so already
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value.adjusted() > 12 or abs(value) > Decimal(MAX_FEN).scaleb(-2):
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
    """The control of one action field: a special control where a field needs one, else one by its type.
    A field in FIELDS without a label here fails the generated page test (tests/web/test_case_page_states.py)."""
    if name in CONTROLS:
        return CONTROLS[name]()
    kind, required, choices, max_len = FIELDS[name]
    need = [DataRequired(message=_l("Please fill this in."))] if required else [Optional()]
    if name == "penalties":
        return FieldList(FormField(PenaltyForm), FIELD_LABELS[name], min_entries=max_len, max_entries=max_len)
    if kind is bool:
        return BooleanField(FIELD_LABELS[name], validators=[Optional()])
    if kind is int:
        return DecimalField(FIELD_LABELS[name], places=2, validators=[InputRequired() if required else Optional(),
                                                                      yuan, NumberRange(min=Decimal("0"))])
    if choices:
        blank = [SelectChoice("", _l("Please choose"))] if name == "remedy" else []  # never a refund by default
        return SelectField(FIELD_LABELS[name], validators=need,
                           choices=blank + [SelectChoice(c, label(CHOICE_GROUPS[name], c)) for c in choices])
    field = TextAreaField if name in LONG_TEXT else StringField
    return field(FIELD_LABELS[name], validators=need + ([Length(max=max_len)] if max_len else []))


def _optional_int(value):
    return int(value) if value not in (None, "") else None


def _number(name):
    """An optional whole number with the bounds the rule book gives it (workflows/fields.py PENALTY_NUMBERS)."""
    kind = next(k for k, (n, _low, _high) in PENALTY_NUMBERS.items() if n == name)
    _name, low, high = PENALTY_NUMBERS[kind]
    labels = {"points": _l("Points"), "days": _l("Days")}
    return IntegerField(labels[name], validators=[Optional()], render_kw={"min": low, "max": high, "type": "number",
                                                                         "inputmode": "numeric"})


class PenaltyForm(Form):
    """One penalty of a proposal or ruling; rows left without a kind are ignored. The service checks the
    numbers (workflows/fields.py `_penalty_problem`) and that the listing is this shop's."""
    kind = SelectField(_l("Penalty"), validate_choice=False,
                       choices=[SelectChoice("", "—")] + [SelectChoice(k, label("penalty_choice", k))
                                                          for k in PENALTY_KINDS])
    listing_id = SelectField(_l("Listing to take down"), coerce=_optional_int, validate_choice=False)
    points = _number("points")
    days = _number("days")

    def value(self):
        kind = self.kind.data
        if not kind:
            return None
        if kind not in PENALTY_NUMBERS:
            return {"kind": kind}
        name = PENALTY_NUMBERS[kind][0]
        return {"kind": kind, name: self[name].data}


# irreversible steps: the form asks the user to tick this sentence first (works without JavaScript)
CONFIRMATIONS = {
    "withdraw": _l("I withdraw this case: it closes and cannot be reopened."),
    "agree": _l("I agree to the buyer's request as filed."),
    "accept_offer": _l("I accept the seller's offer; the refund is paid as offered."),
    "confirm_received": _l("The returned goods arrived; refund or replace them as agreed."),
    "accept_proposal": _l("I accept the platform's proposal."),
    "pay_refund": _l("I pay this refund to the buyer now."),
}


class VersionField(IntegerField):
    """The case version the page was rendered from, sent back hidden so a stale action is refused."""
    widget = HiddenField.widget


def action_form(fields, version=None, *, trigger=None, listings=(), **kwargs):
    """A FlaskForm class with one input per action field, a confirmation for an irreversible step, and the
    case version the page showed; `form_values` gives the service's data. `listings` are the shop's
    (id, title) a takedown may choose from."""
    attrs = {name: _field(name) for name in fields}
    if "remedy" in fields and "amount_fen" in attrs:  # only some remedies take an amount: the service says which
        attrs["amount_fen"] = DecimalField(FIELD_LABELS["amount_fen"], places=2,
                                           validators=[Optional(), yuan, NumberRange(min=Decimal("0"))])
    if trigger in CONFIRMATIONS:
        attrs["confirm"] = BooleanField(CONFIRMATIONS[trigger], validators=[
            DataRequired(message=_l("Please tick this box to confirm."))])
    form_class = type("ActionForm", (FlaskForm,), attrs | {"expected_version": VersionField(validators=[Optional()])})
    form = form_class(**kwargs)
    if version is not None and form.expected_version.data is None:
        form.expected_version.data = version
    if "penalties" in fields:
        for row in form.penalties:
            row.listing_id.choices = [SelectChoice("", "—")] + [SelectChoice(i, title) for i, title in listings]
    form.action_fields = tuple(fields)
    form.trigger, form.problems = trigger, {}
    return form


def form_values(form):
    """The form's data as the service expects it: money in fen, blanks dropped; a remedy that takes no
    amount sends 0 whatever was typed."""
    data = {}
    for name in form.action_fields:
        value = form[name].data
        if name == "amount_fen" and value is not None:
            value = to_fen(value)
        if name == "penalties":
            value = [v for v in (row.form.value() for row in form.penalties) if v is not None]
        if value not in (None, ""):
            data[name] = value
    if "remedy" in data and data["remedy"] not in REMEDIES_WITH_AMOUNT and "amount_fen" in form.action_fields:
        data["amount_fen"] = 0
    return data


def add_problems(form, details, problem_text):
    """Put a service's field problems next to their fields (worded by `problem_text`); a problem with no
    field on this form goes to the form's own errors."""
    for name, problem in (details or {}).items():
        if name in form.action_fields:
            form.problems.setdefault(name, []).append(problem_text(problem))
        else:
            form.form_errors.append(problem_text(problem))


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
    """Rendered on the page; the upload itself is parsed by the streaming parser, which checks the
    csrf_token field the template puts before the file (evidence/upload.py)."""
    file = FileField(_l("File"))
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, label("evidence_kind", k)) for k in EVIDENCE_KINDS])
    description = StringField(_l("Description"), validators=[Length(max=1000)])
