"""The admin console's writes: users and roles, mediator teams, the rules table, shop deposits, failed
execution tasks. One service call = one transaction, and each leaves one admin audit record (who, what,
why) in that transaction (app/admin_audit.py). A reason is required for every write."""
import secrets

from sqlalchemy import delete, select, text, update
from werkzeug.security import generate_password_hash

from workflows.problems import Problem
from workflows.rule_limits import pair_problem, parse_rule
from workflows.rules import DEFAULTS

from ..admin_audit import LOCK as AUDIT_LOCK
from ..admin_audit import reason_problem, record
from ..auth.models import ROLES, ApiToken, MediatorTeam, MediatorTeamCategory, MediatorTeamMember, User
from ..auth.services import MIN_PASSWORD_LENGTH
from ..cases.models import Case
from ..cases.services import reassign_cases_of
from ..catalog.models import CATEGORIES, Shop
from ..db_tx import lock, transaction
from ..errors import ActionNotAvailable, Forbidden, Invalid, NotFound
from ..execution.models import ExecutionTask
from ..execution.services import fire_task
from ..execution.signals import task_moved
from ..extensions import db
from ..payments.models import JournalEntry
from ..payments.services import seller_code, transfer
from ..rules import RuleSetting, get_rules
from ..timeutil import utcnow

MAX_DEPOSIT_FEN = 100_000_000  # ¥1,000,000


def _reason(reason, errors):
    reason, problem = reason_problem(reason)
    if problem:
        errors["reason"] = problem
    return reason


def _one_at_a_time():
    """Writes that add a unique key (a username, a team name, a rule setting) take the audit log's lock first
    (record() would take it at the end anyway): two admins adding the same one at once queue instead of
    colliding. Not before other rows' locks (cases, tasks, accounts): a writer holding those may record()."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})


def _check(errors, message):
    if errors:
        raise Invalid(message, errors)


def _fen(value, errors, name, *, low=0, high=MAX_DEPOSIT_FEN):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = Problem(f"between {low} and {high}", "range_fen", low=low, high=high)
    return value


def _end_sessions_and_tokens(user, now):
    """Every session of the user ends (cookies carry the old session version) and every API token stops."""
    user.session_version = User.session_version + 1
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now))


def _password(password, errors):
    """`password` checked, or a new random one when none is given (shown once to the admin)."""
    if password is None or password == "":
        return secrets.token_urlsafe(9)  # 12 characters
    if not isinstance(password, str) or not MIN_PASSWORD_LENGTH <= len(password) <= 256:
        errors["password"] = Problem(f"at least {MIN_PASSWORD_LENGTH} characters", "password_short",
                                     min=MIN_PASSWORD_LENGTH)
    return password


# ---------------------------------------------------------------- users and roles

def create_user(*, actor, username, display_name, role, password=None, shop_id=None, reason, now=None):
    """A new account (a mediator, usually). Returns (user, password): the password given, or the one
    generated — the caller shows it once, it is stored only hashed."""
    now, errors = now or utcnow(), {}
    username, display_name = (username or "").strip(), (display_name or "").strip()
    if not username:
        errors["username"] = Problem("required", "required")
    elif len(username) > 64 or not username.isprintable() or " " in username:
        errors["username"] = Problem("at most 64 characters, no spaces", "username_format")
    if not display_name:
        errors["display_name"] = Problem("required", "required")
    elif len(display_name) > 64:
        errors["display_name"] = Problem("at most 64 characters", "too_long", max=64)
    if role not in ROLES:
        errors["role"] = Problem("one of: " + ", ".join(ROLES), "not_a_choice")
    password = _password(password, errors)
    reason = _reason(reason, errors)
    with transaction():
        _one_at_a_time()
        shop = None
        if role == "seller":
            shop = db.session.get(Shop, shop_id) if isinstance(shop_id, int) else None
            if shop is None:
                errors["shop_id"] = Problem("a seller needs a shop", "seller_shop")
        if username and "username" not in errors and db.session.execute(
                select(User.id).where(User.username == username)).first():
            errors["username"] = Problem("taken", "username_taken")
        _check(errors, "The user was not created")
        user = User(username=username, display_name=display_name, role=role, shop=shop, created_at=now,
                    password_hash=generate_password_hash(password))
        db.session.add(user)
        db.session.flush()
        record(actor, "user.create", "user", user.id, reason=reason, now=now,
               detail={"username": username, "role": role, "shop_id": shop.id if shop else None})
    return user, password


def set_user_active(user_id, active, *, actor, reason, now=None):
    """Deactivate (no login; sessions and API tokens end) or reactivate a user. An admin cannot deactivate
    themselves nor another admin. A deactivated mediator's open cases in mediation and resolution go to the
    least busy active mediator of each case's team (else any active one); with no active mediator left to
    take them, the deactivation is refused."""
    now, errors = now or utcnow(), {}
    reason = _reason(reason, errors)
    if not active and user_id == actor.id:
        errors["user"] = Problem("you cannot deactivate yourself", "deactivate_self")
    _check(errors, "The user was not changed")
    rules = get_rules()
    with transaction():
        user = lock(User, user_id)
        if user is None:
            raise NotFound("User not found")
        _not_another_admin(user, actor)
        before = user.is_active_flag
        user.is_active_flag = bool(active)
        detail = {"before": before, "after": bool(active)}
        if not active:
            _end_sessions_and_tokens(user, now)
            if user.role == "mediator":
                db.session.flush()
                try:
                    detail["handed_over"] = reassign_cases_of(user.id, actor=actor, now=now, rules=rules)
                except Invalid:
                    raise Invalid("The user was not changed", {"user": Problem(
                        "no active mediator can take their open cases", "no_mediator_left")}) from None
        record(actor, "user.activate" if active else "user.deactivate", "user", user.id, reason=reason, now=now,
               detail=detail)
    return user


def _not_another_admin(user, actor):
    """Admins change their own password at /account/password; no admin resets or deactivates another."""
    if user.role == "admin" and user.id != actor.id:
        raise Forbidden("An admin's account cannot be deactivated or have its password reset by another admin")


def reset_password(user_id, *, actor, password=None, reason, now=None):
    """Set a temporary password (given, or generated and returned to be shown once); the user's sessions
    and API tokens end."""
    now, errors = now or utcnow(), {}
    password = _password(password, errors)
    reason = _reason(reason, errors)
    _check(errors, "The password was not reset")
    with transaction():
        user = lock(User, user_id)
        if user is None:
            raise NotFound("User not found")
        _not_another_admin(user, actor)
        user.password_hash = generate_password_hash(password)
        _end_sessions_and_tokens(user, now)
        record(actor, "user.reset_password", "user", user.id, reason=reason, now=now)
    return password


# ---------------------------------------------------------------- mediator teams

def save_team(team_id=None, *, actor, name, categories, member_ids, reason, now=None):
    """Create (team_id None) or change a mediator team: its name, the categories it covers and its members
    (active or not, mediators only)."""
    now, errors = now or utcnow(), {}
    name = (name or "").strip()
    if not name:
        errors["name"] = Problem("required", "required")
    elif len(name) > 64:
        errors["name"] = Problem("at most 64 characters", "too_long", max=64)
    categories = sorted(set(categories or ()))
    if not categories or any(c not in CATEGORIES for c in categories):
        errors["categories"] = Problem("one or more of: " + ", ".join(CATEGORIES), "not_a_choice")
    member_ids = sorted(set(member_ids or ()))
    reason = _reason(reason, errors)
    with transaction():
        _one_at_a_time()
        team = None
        if team_id is not None:
            team = lock(MediatorTeam, team_id)
            if team is None:
                raise NotFound("Team not found")
        mediators = set(db.session.execute(select(User.id).where(
            User.id.in_(member_ids), User.role == "mediator")).scalars()) if member_ids else set()
        if set(member_ids) - mediators:
            errors["member_ids"] = Problem("mediators only", "team_members")
        if name and "name" not in errors and db.session.execute(select(MediatorTeam.id).where(
                MediatorTeam.name == name, MediatorTeam.id != (team.id if team else -1))).first():
            errors["name"] = Problem("taken", "team_name_taken")
        _check(errors, "The team was not saved")
        before = _team_state(team) if team else None
        if team is None:
            team = MediatorTeam(name=name, created_at=now)
            db.session.add(team)
        team.name = name
        team.categories = [MediatorTeamCategory(category=c) for c in categories]
        team.members = [MediatorTeamMember(user_id=u) for u in member_ids]
        db.session.flush()
        record(actor, "team.update" if before else "team.create", "team", team.id, reason=reason, now=now,
               detail={"before": before, "after": _team_state(team)})
    return team


def delete_team(team_id, *, actor, reason, now=None):
    now, errors = now or utcnow(), {}
    reason = _reason(reason, errors)
    _check(errors, "The team was not deleted")
    with transaction():
        team = lock(MediatorTeam, team_id)
        if team is None:
            raise NotFound("Team not found")
        before = _team_state(team)
        db.session.delete(team)
        record(actor, "team.delete", "team", team_id, reason=reason, now=now, detail={"before": before})


def _team_state(team):
    return {"name": team.name, "categories": sorted(c.category for c in team.categories),
            "members": sorted(m.user_id for m in team.members)}


# ---------------------------------------------------------------- the rules table

def update_rule(key, value, *, actor, reason, now=None):
    """Set one rule (a value from a form or the API, checked by workflows/rule_limits.py), stored in the
    database: deadlines set from now on use it; deadlines already set stay as they are. Its min/max or
    below/above pair is checked under the rules' lock against the rules as stored, so two admins setting
    both ends at once cannot cross them."""
    now, errors = now or utcnow(), {}
    reason = _reason(reason, errors)
    try:
        parsed = parse_rule(key, value)
    except ValueError as err:
        errors["value"] = err.args[0]
    _check(errors, "The rule was not changed")
    with transaction():
        _one_at_a_time()
        before = _checked_pair(key, parsed, "The rule was not changed")[key]
        setting = db.session.get(RuleSetting, key, with_for_update=True)
        if setting is None:
            setting = RuleSetting(key=key, value=parsed, updated_by=actor.id, updated_at=now)
            db.session.add(setting)
        setting.value, setting.updated_by, setting.updated_at = parsed, actor.id, now
        db.session.flush()
        record(actor, "rules.update", "rule", key, reason=reason, now=now, detail={"before": before, "after": parsed})
    return get_rules()


def _checked_pair(key, value, message):
    """The rules as stored (read under the lock); raises Invalid when `key` = `value` would cross its pair."""
    rules = get_rules()
    pair = pair_problem(key, value, rules)
    if pair is not None:
        raise Invalid(message, {"value": pair})
    return rules


def reset_rule(key, *, actor, reason, now=None):
    """Drop the admin's setting of `key`: the configured value (or DOMAIN.md's default) applies again —
    unless that value would cross the rule's pair as it is set now."""
    now, errors = now or utcnow(), {}
    reason = _reason(reason, errors)
    _check(errors, "The rule was not reset")
    with transaction():
        _one_at_a_time()
        before = db.session.execute(select(RuleSetting.value).where(RuleSetting.key == key)
                                    .with_for_update()).scalar()
        if before is None:
            raise NotFound("The rule has no setting to reset")
        db.session.execute(delete(RuleSetting).where(RuleSetting.key == key))
        after = _checked_pair(key, get_rules()[key], "The rule was not reset")[key] if key in DEFAULTS else None
        record(actor, "rules.reset", "rule", key, reason=reason, now=now, detail={"before": before, "after": after})
    return get_rules()


# ---------------------------------------------------------------- shop deposits

def set_required_deposit(shop_id, amount_fen, *, actor, reason, now=None):
    """The deposit (保证金) the shop must hold."""
    now, errors = now or utcnow(), {}
    _fen(amount_fen, errors, "amount_fen")
    reason = _reason(reason, errors)
    _check(errors, "The deposit was not changed")
    with transaction():
        shop = lock(Shop, shop_id)
        if shop is None:
            raise NotFound("Shop not found")
        before, shop.required_deposit_fen = shop.required_deposit_fen, amount_fen
        record(actor, "shop.required_deposit", "shop", shop.id, reason=reason, now=now,
               detail={"before": before, "after": amount_fen})
    return shop


def top_up_deposit(shop_id, amount_fen, *, actor, key, reason, now=None):
    """Book money the shop paid in (from its bank, seller:<shop>:funding) into its deposit. `key` names this
    top-up (the form's own): sent twice, it moves the money once."""
    now, errors = now or utcnow(), {}
    _fen(amount_fen, errors, "amount_fen", low=1)
    reason = _reason(reason, errors)
    if not isinstance(key, str) or not 8 <= len(key) <= 64 or not key.isalnum():
        errors["key"] = Problem("a form key", "form_key")
    _check(errors, "The deposit was not topped up")
    with transaction():
        if db.session.get(Shop, shop_id) is None:
            raise NotFound("Shop not found")
        idempotency_key = f"admin:deposit:{shop_id}:{key}"
        repeat = db.session.execute(select(JournalEntry.id).where(
            JournalEntry.idempotency_key == idempotency_key)).first() is not None
        entry = transfer(seller_code(shop_id, "funding"), seller_code(shop_id, "deposit"), amount_fen,
                         idempotency_key, kind="deposit", at=now, memo="deposit top-up (admin)")
        if not repeat:  # the same form sent again: the money moved once, and it is recorded once
            record(actor, "shop.deposit_top_up", "shop", shop_id, reason=reason, now=now,
                   detail={"amount_fen": amount_fen, "entry_id": entry.id})
    return entry


# ---------------------------------------------------------------- failed execution tasks

def retry_task(task_id, *, actor, reason, now=None):
    """Retry a failed execution task now, as the admin (beyond the system's attempts): its step runs at once.
    Returns the task — state `failed` again, with its new last_error, when the step failed once more."""
    now, errors = now or utcnow(), {}
    reason = _reason(reason, errors)
    _check(errors, "The task was not retried")
    rules = get_rules()
    with transaction():
        case_id = db.session.execute(select(ExecutionTask.case_id).where(ExecutionTask.id == task_id)).scalar()
        if case_id is None:
            raise NotFound("Task not found")
        lock(Case, case_id)  # in order: the case, then the task (as run_task)
        task = lock(ExecutionTask, task_id)
        if task.state != "failed":
            raise ActionNotAvailable("Only a failed task can be retried", {"state": task.state})
        attempts = task.attempts
        fire_task(task, "retry", role="admin", actor=actor, now=now, rules=rules)
        task_moved.send(task, now=now, rules=rules)
        record(actor, "task.retry", "task", task.id, reason=reason, now=now,
               detail={"case_id": case_id, "state": task.state, "attempts_before": attempts,
                       "error": task.last_error if task.state == "failed" else None})
    return task
