"""Case pages: lists, the case page (summary, actions, thread, evidence, order chat), and the
forms that post to the same services as the API."""
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ..auth.policy import (can_rate_case, can_see_ledger, can_view_shop_service, case_role, contributor_role,
                           role_required)
from ..catalog.queries import get_listing
from ..chat.queries import order_messages
from ..chat.services import post_case_message, post_order_message
from ..errors import BadRequest, Conflict, Invalid
from ..extensions import csrf
from ..evidence.download import send_evidence
from ..evidence.queries import evidence_for, get_evidence
from ..evidence.upload import receive_evidence, stored_photos
from ..labels import LABELS, label, system_did
from ..orders.queries import get_order, money_for
from ..reports.case_csv import csv_response
from ..rules import get_rules
from ..timeutil import isoformat, utcnow
from ..web import page_arg, place_problems, problem_text
from workflows.fields import REMEDIES_WITH_AMOUNT

from .audit import check_case
from .forms import (FIELD_LABELS, CHOICE_GROUPS, ComplaintForm, EvidenceForm, MessageForm, action_form, add_problems,
                    form_values, request_form, to_fen)
from .models import KINDS, PHASES
from .queries import (CASE_STATES, CaseFilter, actions_for, case_filter, case_ledger, case_rating, case_tasks,
                      cases_for, events_for, filter_people, get_case, history_for, mediator_queue, messages_for,
                      progress_for, reason_codes, seller_inbox, shop_listings)
from .services import file_complaint, open_case, perform_action, request_options

bp = Blueprint("cases", __name__)


def _form_errors(form):
    return "; ".join(f"{form[k].label.text}: {', '.join(map(str, v))}" for k, v in form.errors.items())


EXPORTERS = ("mediator", "admin")


def _list_filters():
    """The list's filters from the query string (an empty select is no filter), and the problems to show
    beside their fields."""
    try:
        return case_filter(request.args, blank_is_none=True), {}
    except Invalid as err:
        return None, {name: problem_text(problem) for name, problem in err.details.items()}


def _list_page(filters, problems):
    """The case list; with problems in its filters (422) it shows them and no cases."""
    page, staff = page_arg(), current_user.role in EXPORTERS
    cases, total = cases_for(current_user, filters, page=page, per_page=20) if filters else ([], 0)
    return render_template(
        "cases/list.html", cases=cases, total=total, page=page, per_page=20, filters=filters or CaseFilter(),
        problems=problems, values=request.args, phases=PHASES, options=_filter_options(),
        people=filter_people() if staff else None, can_export=staff), 422 if problems else 200


def _filter_options():
    """{filter: [(value, label)]} for the list's selects."""
    return {"phase": [(p, label("phase", p)) for p in PHASES],
            "state": [(s, label("case_state", s)) for s in CASE_STATES],
            "kind": [(k, label("kind", k)) for k in KINDS],
            "reason": [(r, label("reason" if r in LABELS["reason"] else "complaint_type", r)) for r in reason_codes()]}


@bp.route("/cases")
@login_required
def index():
    return _list_page(*_list_filters())


@bp.route("/cases/export.csv")
@role_required(*EXPORTERS)
def export():
    """The list's cases, as filtered, as CSV (UTF-8 with BOM), streamed."""
    filters, problems = _list_filters()
    return _list_page(None, problems) if problems else csv_response(current_user, filters)


@bp.app_context_processor
def _case_page_helpers():
    return {"can_see_ledger": can_see_ledger, "system_did": system_did, "remedies_with_amount": REMEDIES_WITH_AMOUNT,
            "field_label": lambda name: FIELD_LABELS.get(name) or label("field", name),
            "choice_label": lambda name, value: label(HISTORY_CHOICES.get(name, ""), value)}


HISTORY_CHOICES = {**CHOICE_GROUPS, "kind": "kind", "reason": "reason"}


@bp.app_template_filter("iso_utc")
def _iso_utc(value):
    return isoformat(value) if value is not None else ""


@bp.app_template_filter("duration")
def _duration(seconds):
    """Time left, as the countdown shows it before its script runs (and without JavaScript)."""
    if seconds is None:
        return ""
    if seconds <= 0:
        return _("time is up; the system acts at its next run")
    d, rest = divmod(int(seconds), 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if d:
        return _("%(d)s d %(h)s h %(m)s min", d=d, h=h, m=m)
    if h:
        return _("%(h)s h %(m)s min %(s)s s", h=h, m=m, s=s)
    return _("%(m)s min %(s)s s", m=m, s=s)


def _action_forms(case, failed=None):
    """[(trigger, form)] for what the user may do now; the form that just failed keeps its input and errors."""
    listings = None
    forms = []
    for name, fields in actions_for(case, current_user):
        if failed is not None and failed.trigger == name:
            forms.append((name, failed))
            continue
        if "penalties" in fields and listings is None:
            listings = shop_listings(case.shop_id)
        forms.append((name, action_form(fields, version=case.version, trigger=name, listings=listings or (),
                                        prefix=name, formdata=None)))
    return forms


def _render_case(case, failed=None, status=200):
    contributor = contributor_role(current_user, case) is not None
    messages, _total = messages_for(case, per_page=500)
    evidence = evidence_for(case, per_page=200)[0] if contributor else []
    events = events_for(case, per_page=500)[0]
    chat = order_messages(case.order_id, per_page=500)[0] if case.order_id else []
    tasks = case_tasks([case.id])[case.id]
    return render_template("cases/detail.html", case=case, actions=_action_forms(case, failed), messages=messages,
                           evidence=evidence, events=events, chat=chat, contributor=contributor,
                           message_form=MessageForm(), evidence_form=EvidenceForm(),
                           ledger=case_ledger([case.id])[case.id], tasks=tasks,
                           history=history_for(case, evidence), audit=check_case(case), progress=progress_for(case, tasks, utcnow()),
                           listing_titles=dict(shop_listings(case.shop_id)), viewer_role=case_role(current_user, case),
                           money=money_for([case.order_id])[case.order_id] if case.order_id else None,
                           rating=case_rating(case.id), can_rate=can_rate_case(current_user, case),
                           shop_service=can_view_shop_service(current_user, case.shop)), status


@bp.route("/shop/inbox")
@role_required("seller")
def inbox():
    """待处理: what this shop must answer, soonest deadline first; due within 24 h highlighted."""
    now = utcnow()
    return render_template("cases/inbox.html", cases=seller_inbox(current_user), now=now,
                           soon=now + timedelta(hours=24))


QUEUE_FLAGS = ("unassigned", "mine", "overdue")


def _yuan_arg(name):
    """An amount filter in yuan (?min=50) as fen, or None when absent or not a number."""
    try:
        value = Decimal(request.args.get(name, ""))
    except InvalidOperation:
        return None
    return int(value.scaleb(2)) if value.is_finite() and 0 <= value < 10**10 else None


@bp.route("/queue")
@role_required("mediator", "admin")
def queue():
    """The mediator's queue: by deadline, with filters and a count for each."""
    from workflows.rules import COMPLAINT_TYPES
    from .queries import QUEUE_PHASES
    now = utcnow()
    phase = request.args.get("phase") if request.args.get("phase") in QUEUE_PHASES else None
    type_ = request.args.get("type") if request.args.get("type") in COMPLAINT_TYPES else None
    flags = [f for f in QUEUE_FLAGS if request.args.get(f) == "1"]
    min_fen, max_fen = _yuan_arg("min"), _yuan_arg("max")
    page = page_arg()
    cases, total, counts = mediator_queue(current_user, now=now, phase=phase, type=type_, min_fen=min_fen,
                                          max_fen=max_fen, flags=flags, page=page, per_page=20)
    return render_template("cases/queue.html", cases=cases, total=total, counts=counts, page=page, per_page=20,
                           phase=phase, type=type_, flags=flags, phases=QUEUE_PHASES, types=COMPLAINT_TYPES,
                           queue_flags=QUEUE_FLAGS, now=now, soon=now + timedelta(hours=24),
                           min_yuan=request.args.get("min", ""), max_yuan=request.args.get("max", ""))


@bp.route("/cases/<int:case_id>")
@login_required
def detail(case_id):
    return _render_case(get_case(current_user, case_id))


@bp.route("/cases/<int:case_id>/actions/<trigger>", methods=["POST"])
@login_required
def action(case_id, trigger):
    """A failed action re-renders the case page (422) with the errors beside their fields and the input kept."""
    case = get_case(current_user, case_id)
    available = dict(actions_for(case, current_user))
    fields = available.get(trigger, ())
    listings = shop_listings(case.shop_id) if "penalties" in fields else ()
    # a step no longer available goes to the service, which says why (409: someone acted first)
    form = action_form(fields, trigger=trigger if trigger in available else None, listings=listings, prefix=trigger)
    if form.is_submitted() and form.expected_version.data is None:  # the page always sends the version it showed
        flash(_("This page is out of date; please reload it and try again."), "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    if form.validate_on_submit():
        try:
            perform_action(case.id, trigger, actor=current_user, data=form_values(form),
                           expected_version=form.expected_version.data)
        except Invalid as err:
            add_problems(form, err.details, problem_text)
            if not err.details:
                form.form_errors.append(_("Please check your input."))
            case = get_case(current_user, case_id)
        else:
            flash(_("Done: %(action)s", action=label("trigger", trigger)), "success")
            return redirect(url_for("cases.detail", case_id=case.id))
    return _render_case(case, failed=form, status=422)


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
@csrf.exempt  # the streaming parser checks the form's token (_check_csrf) before it stores a byte of the file
@login_required
def upload(case_id):
    case = get_case(current_user, case_id)
    evidence = receive_evidence(request, case, current_user, check_fields=_check_csrf)
    # the name the uploader knows the file by, not its hash (the evidence list shows the hash)
    flash(_("Evidence uploaded: %(name)s (%(kind)s).", name=evidence.filename or evidence.description or "—",
            kind=label("evidence_kind", evidence.kind)), "success")
    return redirect(url_for("cases.detail", case_id=case.id) + "#evidence")


def _check_csrf(fields):
    """The csrf_token field sent before the file part (never the URL: it would land in access logs)."""
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    try:
        validate_csrf(fields.get("csrf_token"))
    except ValidationError:
        raise BadRequest(_("The form expired or was sent from elsewhere; please try again.")) from None


@bp.route("/evidence/<int:evidence_id>")
@login_required
def evidence_content(evidence_id):
    return send_evidence(get_evidence(current_user, evidence_id), thumbnail=request.args.get("thumbnail") == "1")


REQUEST_FIELDS = {"kind": "kind", "reason": "reason", "amount_fen": "amount", "item_ids": "items",
                  "description": "description", "photos": "photos", "file": "photos"}


@bp.route("/orders/<int:order_id>/cases", methods=["POST"])
@role_required("buyer")
def create(order_id):
    """The after-sales request with its photos, in one submission; problems are shown beside their
    fields on the order page (422) with what the buyer typed."""
    from ..orders.routes import order_page
    order = get_order(current_user, order_id)
    form = request_form(order, request_options(order, get_rules(), utcnow()))
    if not form.validate_on_submit():
        form.general_errors = []
        return order_page(order, case_form=form, status=422)
    amount = to_fen(form.amount.data) if form.amount.data is not None else None
    try:
        with stored_photos(request.files.getlist(form.photos.name)) as photos:
            case = open_case(order.id, actor=current_user, kind=form.kind.data, reason=form.reason.data,
                             amount_fen=amount, description=form.description.data or "",
                             item_ids=form.items.data or None, photos=photos)
    except (Invalid, Conflict) as err:  # Conflict: the order has an open case by now
        place_problems(form, err.details, REQUEST_FIELDS)
        return order_page(order, case_form=form, status=err.status)
    flash(_("After-sales request %(number)s filed.", number=case.number), "success")
    return redirect(url_for("cases.detail", case_id=case.id))


COMPLAINT_FIELDS = {"type": "type", "description": "description"}


def _complaint_page(*, order=None, listing=None):
    """我要投诉 — GET shows the form, POST files the complaint (one service call) or shows its problems."""
    form = ComplaintForm(prefix="complaint")
    if form.is_submitted():
        form.general_errors, status = [], 422
        if form.validate():
            try:
                case = file_complaint(actor=current_user, order_id=order.id if order else None,
                                      listing_id=listing.id if listing else None, type=form.type.data,
                                      description=form.description.data or "")
            except (Invalid, Conflict) as err:  # Conflict: an open complaint, or too many, already
                place_problems(form, err.details, COMPLAINT_FIELDS)
                status = err.status
            else:
                flash(_("Complaint %(number)s filed; the seller has been asked to respond.", number=case.number),
                      "success")
                return redirect(url_for("cases.detail", case_id=case.id))
        return render_template("cases/complaint.html", form=form, order=order, listing=listing,
                               rules=get_rules()), status
    return render_template("cases/complaint.html", form=form, order=order, listing=listing, rules=get_rules())


@bp.route("/orders/<int:order_id>/complaint", methods=["GET", "POST"])
@role_required("buyer")
def complain_order(order_id):
    return _complaint_page(order=get_order(current_user, order_id))


@bp.route("/listings/<int:listing_id>/complaint", methods=["GET", "POST"])
@role_required("buyer")
def complain_listing(listing_id):
    return _complaint_page(listing=get_listing(listing_id))


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
