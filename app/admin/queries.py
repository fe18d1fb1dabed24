"""The admin console's reads."""
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from workflows.rule_limits import ceiling, editable, kind_of
from workflows.rules import DEFAULTS

from ..admin_audit import AdminEvent
from ..auth.models import ROLES, MediatorTeam, User
from ..cases.models import Case
from ..catalog.models import Shop
from ..errors import NotFound
from ..execution.models import ExecutionTask
from ..extensions import db
from ..payments.models import Account, JournalLine, sum_fen
from ..rules import RuleSetting, configured_rules, get_rules

PER_PAGE = 50


def users(q="", role=None, page=1):
    """(rows, total): users whose username or display name contains `q`, of `role` if given, newest first."""
    where = []
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(or_(User.username.ilike(like, escape="\\"), User.display_name.ilike(like, escape="\\")))
    if role in ROLES:
        where.append(User.role == role)
    total = db.session.execute(select(func.count()).select_from(User).where(*where)).scalar_one()
    rows = db.session.execute(select(User).where(*where).options(selectinload(User.shop))
                              .order_by(User.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).scalars().all()
    return rows, total


def get_user(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def open_cases_assigned(user_id):
    """How many cases not yet closed a mediator is assigned to."""
    return db.session.execute(select(func.count()).select_from(Case).where(
        Case.mediator_id == user_id, Case.phase != "closed")).scalar_one()


def cases_to_hand_over(user_id):
    """How many of a mediator's cases go to another mediator when they are deactivated (in mediation or
    resolution; app/cases/services.py reassign_cases_of)."""
    return db.session.execute(select(func.count()).select_from(Case).where(
        Case.mediator_id == user_id, Case.phase.in_(("mediation", "resolution")))).scalar_one()


def shops_for_choice():
    return db.session.execute(select(Shop.id, Shop.name).order_by(Shop.name)).all()


def mediators():
    return db.session.execute(select(User).where(User.role == "mediator").order_by(User.display_name, User.id)
                              ).scalars().all()


def teams():
    return db.session.execute(select(MediatorTeam).options(
        selectinload(MediatorTeam.categories), selectinload(MediatorTeam.members))
        .order_by(MediatorTeam.name)).scalars().all()


def get_team(team_id):
    team = db.session.get(MediatorTeam, team_id)
    if team is None:
        raise NotFound("Team not found")
    return team


@dataclass
class RuleRow:
    key: str
    value: object
    default: object
    configured: object       # the value before the admin's setting (config override or default)
    editable: bool
    kind: str
    ceiling: int
    setting: RuleSetting = None   # the admin's setting, with who and when


def rules_table():
    effective, configured = get_rules(), configured_rules()
    settings = {s.key: s for s in db.session.execute(
        select(RuleSetting).options(selectinload(RuleSetting.user))).scalars()}
    return [RuleRow(key, effective[key], DEFAULTS[key], configured[key], editable(key),
                    kind_of(key) if editable(key) else "table", ceiling(key) if editable(key) else 0,
                    settings.get(key)) for key in DEFAULTS]


def rule_uses(key):
    """[(phase, state)] of the states whose deadline is `key` (the rule book's tables, execution tasks too)."""
    from workflows import tasks
    from workflows.diagrams import MODULES
    phases = [m.PHASE.spec for m in MODULES.values()] + [tasks.PHASE.spec]
    return [(spec.name, state.name) for spec in phases for state in spec.states if state.deadline == key]


def rule_row(key):
    for row in rules_table():
        if row.key == key:
            return row
    raise NotFound("Rule not found")


@dataclass
class ShopDeposit:
    id: int
    name: str
    category: str
    required_fen: int
    held_fen: int
    points: int
    restricted_until: object
    is_blacklisted: bool

    @property
    def short_fen(self):
        return max(self.required_fen - self.held_fen, 0)


def _held():
    """Each shop's deposit balance (seller:<shop>:deposit), one grouped sum."""
    return (select(Account.shop_id, sum_fen(JournalLine.amount_fen).label("held"))
            .join(JournalLine, JournalLine.account_id == Account.id)
            .where(Account.kind == "seller_deposit").group_by(Account.shop_id).subquery())


def deposits(q="", short_only=False, page=1):
    """(rows, total): shops with their required and held deposit, those short of it first."""
    held = _held()
    held_fen = func.coalesce(held.c.held, 0)
    where = [Shop.name.ilike("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
                             escape="\\")] if q else []
    if short_only:
        where.append(held_fen < Shop.required_deposit_fen)
    base = select(Shop.id, Shop.name, Shop.category, Shop.required_deposit_fen, held_fen.label("held"), Shop.points,
                  Shop.restricted_until, Shop.is_blacklisted).outerjoin(held, held.c.shop_id == Shop.id).where(*where)
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = db.session.execute(base.order_by((Shop.required_deposit_fen - held_fen).desc(), Shop.id)
                              .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return [ShopDeposit(*row) for row in rows], total


def shop_deposit(shop_id):
    held = _held()
    row = db.session.execute(
        select(Shop.id, Shop.name, Shop.category, Shop.required_deposit_fen, func.coalesce(held.c.held, 0),
               Shop.points, Shop.restricted_until, Shop.is_blacklisted)
        .outerjoin(held, held.c.shop_id == Shop.id).where(Shop.id == shop_id)).first()
    if row is None:
        raise NotFound("Shop not found")
    return ShopDeposit(*row)


def failed_tasks(page=1):
    """(rows, total): execution tasks in state failed, oldest change first, with their case number, shop name
    and the case's buyer id."""
    where = ExecutionTask.state == "failed"
    total = db.session.execute(select(func.count()).select_from(ExecutionTask).where(where)).scalar_one()
    rows = db.session.execute(
        select(ExecutionTask, Case.number, Shop.name, Case.buyer_id).join(Case, Case.id == ExecutionTask.case_id)
        .join(Shop, Shop.id == ExecutionTask.shop_id).where(where)
        .order_by(ExecutionTask.updated_at, ExecutionTask.id).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return rows, total


def audit_events(target_type=None, target_id=None, page=1):
    where = []
    if target_type:
        where.append(AdminEvent.target_type == target_type)
    if target_id:
        where.append(AdminEvent.target_id == str(target_id))
    total = db.session.execute(select(func.count()).select_from(AdminEvent).where(*where)).scalar_one()
    rows = db.session.execute(select(AdminEvent).where(*where).options(selectinload(AdminEvent.actor))
                              .order_by(AdminEvent.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
                              ).scalars().all()
    return rows, total


def overview():
    count = lambda stmt: db.session.execute(stmt).scalar_one()  # noqa: E731
    return {
        "users": count(select(func.count()).select_from(User)),
        "inactive": count(select(func.count()).select_from(User).where(User.is_active_flag.is_(False))),
        "mediators": count(select(func.count()).select_from(User).where(User.role == "mediator")),
        "teams": count(select(func.count()).select_from(MediatorTeam)),
        "settings": count(select(func.count()).select_from(RuleSetting)),
        "failed_tasks": count(select(func.count()).select_from(ExecutionTask).where(ExecutionTask.state == "failed")),
        "events": count(select(func.count()).select_from(AdminEvent)),
    }


def audit_targets(events):
    """{(target_type, target_id): (name, endpoint, url args)} of the events' targets, for the audit log to show
    names with links; a target that is gone keeps no link (a deleted team: its name from the record)."""
    ids = {}
    for e in events:
        if e.target_id.isdigit():
            ids.setdefault(e.target_type, set()).add(int(e.target_id))
    found = {}
    for kind, model, column in (("user", User, User.display_name), ("shop", Shop, Shop.name),
                                ("team", MediatorTeam, MediatorTeam.name)):
        if ids.get(kind):
            for id_, name in db.session.execute(select(model.id, column).where(model.id.in_(ids[kind]))):
                found[(kind, str(id_))] = (name, f"admin.{kind}", {f"{kind}_id": id_})
    if ids.get("task"):
        for id_, case_id, number in db.session.execute(
                select(ExecutionTask.id, Case.id, Case.number).join(Case, Case.id == ExecutionTask.case_id)
                .where(ExecutionTask.id.in_(ids["task"]))):
            found[("task", str(id_))] = (number, "cases.detail", {"case_id": case_id})
    return found


def task_buyer_flagged(task_id):
    """Whether the buyer of the task's case carries the malicious-refund flag (no platform advance)."""
    return bool(db.session.execute(
        select(User.is_malicious_refund).join(Case, Case.buyer_id == User.id)
        .join(ExecutionTask, ExecutionTask.case_id == Case.id).where(ExecutionTask.id == task_id)).scalar())


def task_error(task_id):
    return db.session.execute(select(ExecutionTask.last_error).where(ExecutionTask.id == task_id)).scalar()
