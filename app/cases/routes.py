"""Case pages: lists, the case page (summary, actions, thread, evidence, order chat), and the
forms that post to the same services as the API."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import validate_csrf
from wtforms import SelectChoice
from wtforms.validators import ValidationError

from ..auth.policy import contributor_role, role_required
from ..chat.queries import order_messages
from ..chat.services import post_case_message, post_order_message
from ..errors import BadRequest
from ..extensions import csrf
from ..evidence.download import send_evidence
from ..evidence.queries import evidence_for, get_evidence
from ..evidence.upload import receive_evidence
from ..labels import label
from ..orders.queries import get_order, money_for
from ..rules import get_rules
from .forms import EvidenceForm, MessageForm, OpenCaseForm, action_form, form_values, to_fen
from .models import PHASES
from .queries import actions_for, case_ledger, case_tasks, cases_for, events_for, get_case, messages_for
from .services import open_case, perform_action

bp = Blueprint("cases", __name__)


def _form_errors(form):
    return "; ".join(f"{form[k].label.text}: {', '.join(map(str, v))}" for k, v in form.errors.items())


@bp.route("/cases")
@login_required
def index():
    phase = request.args.get("phase")
    phase = phase if phase in PHASES else None
    page = max(request.args.get("page", 1, type=int), 1)
    cases, total = cases_for(current_user, phase=phase, page=page, per_page=20)
    return render_template("cases/list.html", cases=cases, total=total, page=page, per_page=20, phase=phase,
                           phases=PHASES)


@bp.route("/cases/<int:case_id>")
@login_required
def detail(case_id):
    case = get_case(current_user, case_id)
    actions = [(name, action_form(fields, version=case.version, prefix=name))
               for name, fields in actions_for(case, current_user)]
    contributor = contributor_role(current_user, case) is not None
    messages, _total = messages_for(case, per_page=500)
    evidence = evidence_for(case, per_page=200)[0] if contributor else []
    events = events_for(case, per_page=500)[0]
    chat = order_messages(case.order_id, per_page=500)[0] if case.order_id else []
    return render_template("cases/detail.html", case=case, actions=actions, messages=messages, evidence=evidence,
                           events=events, chat=chat, contributor=contributor, message_form=MessageForm(),
                           evidence_form=EvidenceForm(), ledger=case_ledger([case.id])[case.id],
                           tasks=case_tasks([case.id])[case.id],
                           money=money_for([case.order_id])[case.order_id] if case.order_id else None)


@bp.route("/cases/<int:case_id>/actions/<trigger>", methods=["POST"])
@login_required
def action(case_id, trigger):
    case = get_case(current_user, case_id)
    fields = dict(actions_for(case, current_user)).get(trigger, ())
    form = action_form(fields, prefix=trigger)
    if not form.validate_on_submit():
        flash(_("Please check the form: %(errors)s", errors=_form_errors(form)), "error")
    else:
        perform_action(case.id, trigger, actor=current_user, data=form_values(form),
                       expected_version=form.expected_version.data)
        flash(_("Done: %(action)s", action=label("trigger", trigger)), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/cases/<int:case_id>/messages", methods=["POST"])
@login_required
def post_message(case_id):
    case = get_case(current_user, case_id)
    form = MessageForm()
    if not form.validate_on_submit():
        flash(_("Please check the form: %(errors)s", errors=_form_errors(form)), "error")
    else:
        post_case_message(case.id, actor=current_user, body=form.body.data)
    return redirect(url_for("cases.detail", case_id=case.id) + "#thread")


@bp.route("/cases/<int:case_id>/evidence", methods=["POST"])
@csrf.exempt  # checked below from the query string, so the body can be streamed
@login_required
def upload(case_id):
    case = get_case(current_user, case_id)
    try:  # the token travels in the query string: the multipart body is streamed, not parsed by WTForms
        validate_csrf(request.args.get("csrf_token"))
    except ValidationError:
        raise BadRequest(_("The form expired or was sent from elsewhere; please try again.")) from None
    evidence = receive_evidence(request, case, current_user)
    flash(_("Evidence uploaded: %(sha)s", sha=evidence.sha256[:12]), "success")
    return redirect(url_for("cases.detail", case_id=case.id) + "#evidence")


@bp.route("/evidence/<int:evidence_id>")
@login_required
def evidence_content(evidence_id):
    return send_evidence(get_evidence(current_user, evidence_id), thumbnail=request.args.get("thumbnail") == "1")


def open_case_form(order):
    form = OpenCaseForm(prefix="case")
    reasons = get_rules()["reasons"]
    form.kind.choices = [SelectChoice(k, label("kind", k)) for k in reasons]
    form.reason.choices = [SelectChoice(r, label("reason", r)) for r in dict.fromkeys(
        r for kind_reasons in reasons.values() for r in kind_reasons)]
    if form.amount_fen.data is None:
        form.amount_fen.data = money_for([order.id])[order.id]["refundable_fen"] / 100
    return form


@bp.route("/orders/<int:order_id>/cases", methods=["POST"])
@role_required("buyer")
def create(order_id):
    order = get_order(current_user, order_id)
    form = open_case_form(order)
    if not form.validate_on_submit():
        flash(_("Please check the form: %(errors)s", errors=_form_errors(form)), "error")
        return redirect(url_for("orders.detail", order_id=order.id))
    case = open_case(order.id, actor=current_user, kind=form.kind.data, reason=form.reason.data,
                     amount_fen=to_fen(form.amount_fen.data),
                     description=form.description.data or "")
    flash(_("After-sales request %(number)s filed.", number=case.number), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/orders/<int:order_id>/messages", methods=["POST"])
@role_required("buyer", "seller")
def order_message(order_id):
    order = get_order(current_user, order_id)
    form = MessageForm(prefix="chat")
    if not form.validate_on_submit():
        flash(_("Please check the form: %(errors)s", errors=_form_errors(form)), "error")
    else:
        post_order_message(order.id, actor=current_user, body=form.body.data)
    return redirect(url_for("orders.detail", order_id=order.id) + "#chat")
