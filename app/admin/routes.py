"""/admin: the admin console — users and roles, mediator teams, the rules table, shop deposits, failed
execution tasks, the audit log. Admins only; every write is one service call (app/admin/services.py)."""
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..admin_audit import verify
from ..auth.policy import role_required
from ..cases.forms import to_fen
from ..errors import ActionNotAvailable, Conflict, Invalid
from ..labels import NOT_ELIGIBLE, label, task_error
from ..web import page_arg, problem_text
from . import audit_view, queries, services
from .forms import ActiveForm, DeleteForm, DepositForm, PasswordResetForm, RetryForm, RuleForm, TeamForm, TopUpForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

# how the console words the services' problem codes the rest of the app has no words for
PROBLEMS = {
    "username_format": _l("At most 64 characters, without spaces."),
    "username_taken": _l("This username is already taken."),
    "password_short": _l("At least %(min)s characters."),
    "seller_shop": _l("A seller needs a shop: choose one."),
    "deactivate_self": _l("You cannot deactivate your own account."),
    "no_mediator_left": _l("No other active mediator can take this mediator's open cases: activate or create one first."),
    "team_members": _l("Only mediators can be team members."),
    "team_name_taken": _l("A team with this name already exists."),
    "rule_unknown": _l("There is no such rule."),
    "rule_read_only": _l("This rule cannot be changed here."),
    "rule_bool": _l("Enter true or false."),
    "rule_int": _l("Enter a whole number."),
    "rule_number": _l("Enter a number."),
    "rule_range": _l("A value from %(low)s to %(high)s."),
    "rule_above_max": _l("At most the matching maximum (%(other)s)."),
    "rule_below_min": _l("At least the matching minimum (%(other)s)."),
    "rule_not_below": _l("Less than %(rule)s (now %(other)s)."),
    "rule_not_above": _l("More than %(rule)s (now %(other)s)."),
    "form_key": _l("The form expired; please reload the page."),
}

# the audit log's actions, as a person reads them
ACTIONS = {
    "user.create": _l("Account created"), "user.deactivate": _l("Account deactivated"),
    "user.activate": _l("Account reactivated"), "user.reset_password": _l("Password reset"),
    "team.create": _l("Team created"), "team.update": _l("Team changed"), "team.delete": _l("Team deleted"),
    "rules.update": _l("Rule changed"), "rules.reset": _l("Rule reset to default"),
    "shop.required_deposit": _l("Required deposit set"), "shop.deposit_top_up": _l("Deposit payment booked"),
    "task.retry": _l("Task retried"),
    "buyer.flag": _l("Buyer flagged as malicious"), "buyer.unflag": _l("Buyer's flag cleared"),
    "shop.restrict": _l("Shop restricted (points threshold)"), "shop.blacklist": _l("Shop blacklisted (points threshold)"),
    "shop.lift_restriction": _l("Restriction lifted"), "shop.remove_blacklist": _l("Blacklist removed"),
}
# what each unit of the rules table means (by the key's ending, as workflows/rule_limits.py reads it)
UNITS = (("_hours", _l("hours")), ("_days", _l("days")), ("_percent", "%"), ("_fen", _l("fen")))


@bp.app_template_filter("admin_action")
def admin_action(action):
    return ACTIONS.get(action, action)


@bp.app_template_filter("audit_detail")
def audit_detail(event):
    return audit_view.detail_lines(event)


@bp.app_template_filter("audit_reason")
def audit_reason(reason):
    return audit_view.reason_text(reason)


@bp.app_template_filter("rule_unit")
def rule_unit(key):
    return next((unit for suffix, unit in UNITS if key.endswith(suffix)), "")


def _text(problem):
    code = getattr(problem, "code", None)
    if code in PROBLEMS:
        return str(PROBLEMS[code]) % getattr(problem, "values", {})
    return problem_text(problem)


def _place(form, err, fields):
    """The service's problems beside the form's fields (`fields`: service name → form field), the rest on top."""
    form.general_errors = []
    for name, problem in err.details.items():
        target = fields.get(name)
        if target is not None:
            form[target].errors = [*form[target].errors, _text(problem)]
        else:
            form.general_errors.append(_text(problem))
    return form


@bp.before_request
@role_required("admin")
def _admins_only():
    return None


@bp.route("/")
def index():
    return render_template("admin/index.html", counts=queries.overview())


# ---------------------------------------------------------------- users

def _users_page(form, created=None, status=200):
    q, role = (request.args.get("q") or "").strip()[:64], request.args.get("role")
    page = page_arg()
    rows, total = queries.users(q, role, page)
    return render_template("admin/users.html", rows=rows, total=total, page=page, per_page=queries.PER_PAGE,
                           q=q, role=role, form=form, created=created), status


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = UserForm(prefix="user").fill(queries.shops_for_choice())
    if not form.is_submitted():
        return _users_page(form)
    if form.validate_on_submit():
        try:
            user, password = services.create_user(
                actor=current_user, username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, shop_id=form.shop_id.data, password=form.password.data or None,
                reason=form.reason.data)
        except Invalid as err:
            _place(form, err, {"username": "username", "display_name": "display_name", "role": "role",
                               "shop_id": "shop_id", "password": "password", "reason": "reason"})
        else:  # the password is shown on this answer only, never stored in a cookie or a later page
            fresh = UserForm(prefix="user", formdata=None).fill(queries.shops_for_choice())
            return _users_page(fresh, created=(user, password))
    return _users_page(form, status=422)


def _user_page(user, active_form=None, reset_form=None, new_password=None, status=200):
    events, _total = queries.audit_events("user", user.id)
    assigned = queries.open_cases_assigned(user.id) if user.role == "mediator" else None
    hand_over = queries.cases_to_hand_over(user.id) if user.role == "mediator" else None
    return render_template("admin/user.html", user=user, events=events, new_password=new_password, assigned=assigned,
                           hand_over=hand_over,
                           active_form=active_form or ActiveForm(prefix="active"),
                           reset_form=reset_form or PasswordResetForm(prefix="reset")), status


@bp.route("/users/<int:user_id>")
def user(user_id):
    return _user_page(queries.get_user(user_id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def set_active(user_id):
    user, form = queries.get_user(user_id), ActiveForm(prefix="active")
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        hand_over = queries.cases_to_hand_over(user.id) if not active and user.role == "mediator" else 0
        try:
            services.set_user_active(user.id, active, actor=current_user, reason=form.reason.data)
        except Invalid as err:
            _place(form, err, {"reason": "reason"})
        else:
            flash(_("The account is active again.") if active else
                  _("The account is deactivated: it cannot log in, and its sessions and API tokens ended."), "success")
            if hand_over:
                flash(_("%(n)s open cases were handed to other mediators.", n=hand_over), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return _user_page(user, active_form=form, status=422)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def reset_password(user_id):
    user, form = queries.get_user(user_id), PasswordResetForm(prefix="reset")
    if form.validate_on_submit():
        try:
            password = services.reset_password(user.id, actor=current_user, password=form.password.data or None,
                                               reason=form.reason.data)
        except Invalid as err:
            _place(form, err, {"password": "password", "reason": "reason"})
        else:  # shown on this answer only: never in a cookie (the session is one) nor in any cache; base.js turns
            # the address into the user page's, so a reload does not reset the password again
            page, status = _user_page(user, reset_form=PasswordResetForm(prefix="reset", formdata=None),
                                      new_password=password)
            return page, status, {"Cache-Control": "private, no-store"}
    return _user_page(user, reset_form=form, status=422)


# ---------------------------------------------------------------- teams

TEAM_FIELDS = {"name": "name", "categories": "categories", "member_ids": "members", "reason": "reason"}


def _teams_page(form, editing=None, status=200):
    return render_template("admin/teams.html", teams=queries.teams(), form=form, editing=editing,
                           delete_form=DeleteForm(prefix="delete"),
                           names={m.id: m for m in queries.mediators()}), status


def _save_team(form, team=None):
    if form.validate_on_submit():
        try:
            services.save_team(team.id if team else None, actor=current_user, name=form.name.data,
                               categories=form.categories.data, member_ids=form.members.data,
                               reason=form.reason.data)
        except Invalid as err:
            _place(form, err, TEAM_FIELDS)
        else:
            flash(_("Team saved. Its categories' queued cases now go to its mediators."), "success")
            return redirect(url_for("admin.teams"))
    return _teams_page(form, team, 422)


@bp.route("/teams", methods=["GET", "POST"])
def teams():
    form = TeamForm(prefix="team").fill(queries.mediators())
    if form.is_submitted():
        return _save_team(form)
    return _teams_page(form)


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
def team(team_id):
    team = queries.get_team(team_id)
    form = TeamForm(prefix="team").fill(queries.mediators())
    if form.is_submitted():
        return _save_team(form, team)
    form.name.data = team.name
    form.categories.data = [c.category for c in team.categories]
    form.members.data = [m.user_id for m in team.members]
    return _teams_page(form, team)


@bp.route("/teams/<int:team_id>/delete", methods=["POST"])
def delete_team(team_id):
    team, form = queries.get_team(team_id), DeleteForm(prefix="delete")
    if form.validate_on_submit():
        try:
            services.delete_team(team.id, actor=current_user, reason=form.reason.data)
        except Invalid as err:
            flash(" ".join(_text(p) for p in err.details.values()), "error")
            return redirect(url_for("admin.team", team_id=team.id))
        flash(_("Team deleted."), "success")
    return redirect(url_for("admin.teams"))


# ---------------------------------------------------------------- rules

@bp.route("/rules")
def rules():
    return render_template("admin/rules.html", rows=queries.rules_table())


def _rule_page(row, form, reset_form=None, status=200):
    events, _total = queries.audit_events("rule", row.key)
    return render_template("admin/rule.html", row=row, form=form, events=events, uses=queries.rule_uses(row.key),
                           reset_form=reset_form or DeleteForm(prefix="reset")), status


@bp.route("/rules/<key>", methods=["GET", "POST"])
def rule(key):
    row = queries.rule_row(key)
    form = RuleForm(prefix="rule")
    if not form.is_submitted():
        form.value.data = str(row.value).lower() if row.kind == "bool" else row.value
        return _rule_page(row, form)
    if form.validate_on_submit():
        try:
            services.update_rule(key, form.value.data or "", actor=current_user, reason=form.reason.data)
        except Invalid as err:
            _place(form, err, {"value": "value", "reason": "reason"})
        else:
            name = f"{label('rule', key)} ({key})"
            if key.endswith("_hours"):  # a deadline: its new value counts for deadlines set from now on
                flash(_("Rule %(key)s saved: deadlines set from now on use the new value; deadlines already set stay.",
                        key=name), "success")
            else:
                flash(_("Rule %(key)s saved: the new value applies now.", key=name), "success")
            return redirect(url_for("admin.rules"))
    return _rule_page(row, form, status=422)


@bp.route("/rules/<key>/reset", methods=["POST"])
def reset_rule(key):
    row, form = queries.rule_row(key), DeleteForm(prefix="reset")
    if form.validate_on_submit():
        try:
            services.reset_rule(key, actor=current_user, reason=form.reason.data)
        except Invalid as err:
            _place(form, err, {"reason": "reason"})
        else:
            flash(_("Rule %(key)s is back to its default.", key=f"{label('rule', key)} ({key})"), "success")
            return redirect(url_for("admin.rules"))
    return _rule_page(row, RuleForm(prefix="rule", formdata=None, data={"value": row.value}), form, 422)


# ---------------------------------------------------------------- deposits

@bp.route("/deposits")
def deposits():
    q, short = (request.args.get("q") or "").strip()[:64], request.args.get("short") == "1"
    page = page_arg()
    rows, total = queries.deposits(q, short, page)
    return render_template("admin/deposits.html", rows=rows, total=total, page=page, per_page=queries.PER_PAGE,
                           q=q, short=short)


def _shop_page(shop_id, deposit_form=None, top_up_form=None, status=200, top_up_errors=()):
    events, _total = queries.audit_events("shop", shop_id)
    shop = queries.shop_deposit(shop_id)
    if deposit_form is None:  # the current amount, in yuan, to change
        deposit_form = DepositForm(prefix="deposit", formdata=None, data={"amount": Decimal(shop.required_fen) / 100})
    top_up_form = (top_up_form or TopUpForm(prefix="topup")).fresh_key()
    top_up_form.general_errors = list(top_up_errors) or getattr(top_up_form, "general_errors", [])
    return render_template("admin/shop.html", shop=shop, events=events, deposit_form=deposit_form,
                           top_up_form=top_up_form), status


@bp.route("/shops/<int:shop_id>")
def shop(shop_id):
    return _shop_page(shop_id)


@bp.route("/shops/<int:shop_id>/deposit", methods=["POST"])
def set_deposit(shop_id):
    queries.shop_deposit(shop_id)
    form = DepositForm(prefix="deposit")
    if form.validate_on_submit():
        try:
            services.set_required_deposit(shop_id, to_fen(form.amount.data) if form.amount.data is not None else None,
                                          actor=current_user, reason=form.reason.data)
        except Invalid as err:
            _place(form, err, {"amount_fen": "amount", "reason": "reason"})
        else:
            flash(_("Required deposit saved."), "success")
            return redirect(url_for("admin.shop", shop_id=shop_id))
    return _shop_page(shop_id, deposit_form=form, status=422)


@bp.route("/shops/<int:shop_id>/top-up", methods=["POST"])
def top_up(shop_id):
    queries.shop_deposit(shop_id)
    form = TopUpForm(prefix="topup")
    if form.validate_on_submit():
        try:
            services.top_up_deposit(shop_id, to_fen(form.amount.data) if form.amount.data is not None else None,
                                    actor=current_user, key=form.key.data, reason=form.reason.data)
        except Invalid as err:
            _place(form, err, {"amount_fen": "amount", "reason": "reason"})
        except Conflict:  # this form (its key) was booked already, with another amount
            form.general_errors = [_("This top-up form was already sent with another amount, and only the first "
                                     "was booked. Check the deposit below; to top up again, use the new form.")]
            return _shop_page(shop_id, top_up_form=TopUpForm(prefix="topup", formdata=None),
                              status=409, top_up_errors=form.general_errors)
        else:
            flash(_("Deposit topped up."), "success")
            return redirect(url_for("admin.shop", shop_id=shop_id))
    return _shop_page(shop_id, top_up_form=form, status=422)


# ---------------------------------------------------------------- failed tasks

def _tasks_page(forms=None, status=200):
    page = page_arg()
    rows, total = queries.failed_tasks(page)
    forms = forms or {}
    return render_template("admin/tasks.html", rows=rows, total=total, page=page, per_page=queries.PER_PAGE,
                           forms={task.id: forms.get(task.id) or RetryForm(prefix=f"retry{task.id}")
                                  for task, *_ in rows}, not_eligible=NOT_ELIGIBLE), status


@bp.route("/tasks")
def tasks():
    return _tasks_page()


@bp.route("/tasks/<int:task_id>/retry", methods=["POST"])
def retry_task(task_id):
    form = RetryForm(prefix=f"retry{task_id}")
    if form.validate_on_submit():
        was_not_eligible = queries.task_error(task_id) == NOT_ELIGIBLE
        try:
            task = services.retry_task(task_id, actor=current_user, reason=form.reason.data)
        except Invalid as err:
            _place(form, err, {"reason": "reason"})
        except ActionNotAvailable:
            flash(_("This task is no longer failed; nothing was retried."), "error")
            return redirect(url_for("admin.tasks"))
        else:
            if was_not_eligible and queries.task_buyer_flagged(task.id):  # the advance will be refused again
                flash(_("The buyer is still flagged as a malicious refunder: the retry will fail again."), "error")
            if task.state == "failed":
                flash(_("The task failed again: %(error)s", error=task_error(task.last_error) or "—"), "error")
            else:
                flash(_("The task ran again and is now: %(state)s.", state=_task_state(task.state)), "success")
            return redirect(url_for("admin.tasks"))
    return _tasks_page({task_id: form}, 422)


def _task_state(state):
    return label("task_state", state)


# ---------------------------------------------------------------- audit log

@bp.route("/audit")
def audit():
    page = page_arg()
    target_type = request.args.get("type") or None
    rows, total = queries.audit_events(target_type if target_type in AUDIT_TYPES else None, None, page)
    return render_template("admin/audit.html", rows=rows, total=total, page=page, per_page=queries.PER_PAGE,
                           broken=verify(), target_type=target_type, types=AUDIT_TYPES,
                           targets=queries.audit_targets(rows))


AUDIT_TYPES = ("user", "team", "rule", "shop", "task")
