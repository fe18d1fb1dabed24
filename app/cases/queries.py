"""Reads for case pages and the API."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from workflows.cases import CLOSED_STATES, available_actions
from workflows.cases import PHASES as CASE_PHASES
from workflows.problems import Problem
from workflows.rules import COMPLAINT_TYPES

from ..auth.policy import case_role, ensure_can_view_case, visible_cases_clause
from ..errors import Invalid, NotFound
from ..extensions import db
from ..ids import MAX_ID
from ..payments.models import JournalEntry, JournalLine
from ..rules import get_rules
from .models import KINDS, PHASES, Case, CaseEvent, CaseMessage, CaseRating
from .services import _prepare


def get_case(user, case_id):
    case = db.session.execute(select(Case).where(Case.id == case_id).options(joinedload(Case.order))
                              ).scalar_one_or_none() if isinstance(case_id, int) else None
    if case is None:
        raise NotFound("Case not found")
    return ensure_can_view_case(user, case)


CASE_STATES = tuple(dict.fromkeys([s.name for p in CASE_PHASES.values() for s in p.spec.states]
                                + list(CLOSED_STATES)))


def reason_codes():
    """What the reason filter takes: the after-sales reasons and the complaint types (a complaint's reason)."""
    return tuple(dict.fromkeys([c for codes in get_rules()["reasons"].values() for c in codes]
                               + list(COMPLAINT_TYPES)))


@dataclass(frozen=True)
class CaseFilter:
    """The case list's filters (all optional): the list page, the API's list and the CSV exports."""
    phase: str | None = None
    state: str | None = None
    kind: str | None = None
    reason: str | None = None
    shop: int | None = None
    mediator: int | None = None
    opened_from: date | None = None   # opened on or after this day in the display time zone (Asia/Shanghai)
    opened_to: date | None = None     # …and on or before this one

    def args(self):
        """The filters as query-string values (for links that keep them)."""
        return {k: str(v) for k, v in vars(self).items() if v is not None}


FILTERS = tuple(CaseFilter.__dataclass_fields__)
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ID = re.compile(r"[0-9]{1,10}")


def case_filter(args, *, blank_is_none=False):
    """A CaseFilter from query-string values; Invalid (422) naming each bad one. A page's empty select
    (`blank_is_none`) is no filter; the API refuses an empty value like any other unknown one."""
    choices = {"phase": PHASES, "state": CASE_STATES, "kind": KINDS, "reason": reason_codes()}
    values, problems = {}, {}
    for name in FILTERS:
        raw = args.get(name)
        if raw is None or (blank_is_none and raw == ""):
            continue
        if name in choices:
            if raw in choices[name]:
                values[name] = raw
            else:
                problems[name] = Problem(f"one of {', '.join(choices[name])}", "not_a_choice")
        elif name in ("shop", "mediator"):
            if ID.fullmatch(raw) and 1 <= int(raw) <= MAX_ID:
                values[name] = int(raw)
            else:
                problems[name] = Problem(f"an id from 1 to {MAX_ID}", "not_a_choice")
        else:
            try:
                values[name] = date.fromisoformat(raw) if DATE.fullmatch(raw) else None
            except ValueError:
                values[name] = None
            if values[name] is None:
                problems[name] = Problem("a date as YYYY-MM-DD", "not_a_date")
    if problems:
        raise Invalid("Invalid filters", problems)
    return CaseFilter(**values)


def _day_start_utc(day):
    """Midnight of `day` in the display time zone, as naive UTC; None past the calendar's ends."""
    try:
        local = datetime.combine(day, time(), tzinfo=ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
        return local.astimezone(timezone.utc).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return None


def filter_clauses(user, f):
    """WHERE clauses for the cases `user` may see that match `f`."""
    where = [visible_cases_clause(user, Case)]
    where += [getattr(Case, name) == getattr(f, name) for name in ("phase", "state", "kind") if getattr(f, name)]
    if f.reason:
        where.append(or_(Case.reason == f.reason, Case.complaint_type == f.reason))
    if f.shop:
        where.append(Case.shop_id == f.shop)
    if f.mediator:
        where.append(Case.mediator_id == f.mediator)
    start = _day_start_utc(f.opened_from) if f.opened_from else None
    if start is not None:
        where.append(Case.created_at >= start)
    end = _day_start_utc(f.opened_to + timedelta(days=1)) if f.opened_to and f.opened_to < date.max else None
    if end is not None:
        where.append(Case.created_at < end)
    return where


def cases_for(user, filters=CaseFilter(), *, page=1, per_page=20):
    """A page of the cases `user` may see that match `filters`, newest first, and how many match."""
    where = filter_clauses(user, filters)
    total = db.session.execute(select(func.count()).select_from(Case).where(*where)).scalar_one()
    rows = db.session.execute(select(Case).where(*where).options(joinedload(Case.order))
                              .order_by(Case.id.desc()).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return rows, total


def filter_people():
    """{"shops": [(id, name)], "mediators": [(id, name)]} for the list's shop and mediator filters."""
    from ..auth.models import User
    from ..catalog.models import Shop
    return {"shops": db.session.execute(select(Shop.id, Shop.name).order_by(Shop.name)).all(),
            "mediators": db.session.execute(select(User.id, User.display_name).where(User.role == "mediator")
                                            .order_by(User.display_name, User.id)).all()}


EXPORT_BATCH = 500  # rows per fetch from the cursor: two batches at most are alive at once


def export_rows(user, filters=CaseFilter(), *, batch=EXPORT_BATCH):
    """The rows of the case export, newest first: columns only, read `batch` at a time from a cursor of a
    connection of their own (a server-side cursor on PostgreSQL), so memory stays flat however many cases match.
    The query is built now; the generator needs no app or request context (a streamed response outlives them)."""
    from ..auth.models import User
    from ..catalog.models import Shop
    buyer, mediator = aliased(User), aliased(User)
    query = (select(Case.number, Case.kind, Case.reason, Case.complaint_type, Case.phase, Case.state,
                    buyer.display_name.label("buyer"), Shop.name.label("shop"), mediator.display_name.label("mediator"),
                    Case.amount_fen, Case.created_at, Case.updated_at, Case.due_at, Case.remedy_type,
                    Case.remedy_amount_fen)
             .join(buyer, buyer.id == Case.buyer_id).join(Shop, Shop.id == Case.shop_id)
             .outerjoin(mediator, mediator.id == Case.mediator_id)
             .where(*filter_clauses(user, filters)).order_by(Case.id.desc())
             .execution_options(yield_per=batch))
    engine = db.engine

    def rows():
        with engine.connect() as conn:
            yield from conn.execute(query)
    return rows()


def seller_inbox(user, *, limit=200):
    """待处理: the shop's open cases waiting for the seller, soonest deadline first — with order, buyer
    and items loaded (three queries, whatever the count)."""
    from ..orders.models import Order
    rows = db.session.execute(
        select(Case).where(visible_cases_clause(user, Case), Case.phase != "closed", Case.waiting_for == "seller")
        .options(joinedload(Case.buyer), joinedload(Case.order).selectinload(Order.items))
        .order_by(Case.due_at, Case.id).limit(limit)).unique().scalars().all()
    return rows


# the mediator queue's filters: name → WHERE clause (given the user and now); counted in one query
def _queue_filters(user, now):
    return {
        "unassigned": Case.mediator_id.is_(None), "mine": Case.mediator_id == user.id,
        "overdue": Case.due_at < now,
    }


QUEUE_PHASES = ("mediation", "resolution", "execution", "closed")


def mediator_queue(user, *, now, phase=None, type=None, min_fen=None, max_fen=None, flags=(), page=1, per_page=20):
    """The mediator's queue sorted by deadline, filtered; plus counts per filter over the visible open cases.

    Returns (cases, total, counts) where counts = {"phase": {..}, "type": {..}, "unassigned": n, "mine": n,
    "overdue": n, "all": n}. Three queries for the rows and their orders, one for all the counts."""
    from ..orders.models import Order
    visible = visible_cases_clause(user, Case)
    open_ = Case.phase != "closed"
    where = [visible, Case.phase == phase if phase else open_]
    if type:
        where.append(Case.complaint_type == type)
    if min_fen is not None:
        where.append(Case.amount_fen >= min_fen)
    if max_fen is not None:
        where.append(Case.amount_fen <= max_fen)
    filters = _queue_filters(user, now)
    where += [filters[f] for f in flags if f in filters]
    total = db.session.execute(select(func.count()).select_from(Case).where(*where)).scalar_one()
    rows = db.session.execute(
        select(Case).where(*where).options(joinedload(Case.buyer), joinedload(Case.shop), joinedload(Case.mediator),
                                           joinedload(Case.order).selectinload(Order.items))
        .order_by(Case.due_at.is_(None), Case.due_at, Case.id)
        .limit(per_page).offset((page - 1) * per_page)).unique().scalars().all()
    from workflows.rules import COMPLAINT_TYPES
    columns = [func.count().filter(open_).label("all")]
    columns += [func.count().filter(Case.phase == p).label(f"phase_{p}") for p in QUEUE_PHASES]
    columns += [func.count().filter(open_, Case.complaint_type == t).label(f"type_{t}") for t in COMPLAINT_TYPES]
    columns += [func.count().filter(open_, clause).label(name) for name, clause in filters.items()]
    counts_row = db.session.execute(select(*columns).select_from(Case).where(visible)).one()._mapping
    counts = {"all": counts_row["all"], "phase": {p: counts_row[f"phase_{p}"] for p in QUEUE_PHASES},
              "type": {t: counts_row[f"type_{t}"] for t in COMPLAINT_TYPES},
              **{name: counts_row[name] for name in filters}}
    return rows, total, counts


def actions_for(case, user):
    """[(name, fields)] the user may fire on the case now."""
    role = case_role(user, case)
    if role in (None, "admin"):
        return []
    _prepare(case)
    return available_actions(case, role, get_rules())


def events_for(case, *, page=1, per_page=20):
    total = case.event_count
    rows = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
                              .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return rows, total


def messages_for(case, *, page=1, per_page=50):
    total = db.session.execute(select(func.count()).select_from(CaseMessage)
                               .where(CaseMessage.case_id == case.id)).scalar_one()
    rows = db.session.execute(select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)
                              .options(selectinload(CaseMessage.attachments), joinedload(CaseMessage.author))
                              .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return rows, total


def case_ledger(case_ids):
    """{case_id: [JournalEntry]} with lines and accounts, two queries."""
    out = {cid: [] for cid in case_ids}
    if case_ids:
        for entry in db.session.execute(
                select(JournalEntry).where(JournalEntry.case_id.in_(case_ids)).order_by(JournalEntry.id)
                .options(selectinload(JournalEntry.lines).joinedload(JournalLine.account))).scalars():
            out[entry.case_id].append(entry)
    return out


def open_cases_for(user, order_ids):
    """{order_id: id of its open case} for the given orders, of the cases `user` may see; one query."""
    if not order_ids:
        return {}
    return dict(db.session.execute(select(Case.order_id, Case.id).where(
        Case.order_id.in_(order_ids), Case.phase != "closed", visible_cases_clause(user, Case))).all())


REFUND_KINDS = ("refund_only", "return_refund", "compensation")


def case_badges(user, order_ids):
    """{order_id: "refunding" (退款中) | "after_sales" (售后中)} for orders with an open case `user` may see,
    one query: a request for money back is 退款中; an exchange or a complaint is 售后中."""
    if not order_ids:
        return {}
    rows = db.session.execute(select(Case.order_id, Case.kind).where(
        Case.order_id.in_(order_ids), Case.phase != "closed", visible_cases_clause(user, Case)))
    return {oid: "refunding" if kind in REFUND_KINDS else "after_sales" for oid, kind in rows}


def cases_of_order(user, order_id):
    """The cases of an order that `user` may see (a mediator: only theirs and the queue's), oldest first."""
    return db.session.execute(select(Case).where(Case.order_id == order_id, visible_cases_clause(user, Case))
                              .order_by(Case.id)).scalars().all()


def case_tasks(case_ids):
    """{case_id: [ExecutionTask]}, one query."""
    from ..execution.models import ExecutionTask
    out = {cid: [] for cid in case_ids}
    if case_ids:
        for task in db.session.execute(select(ExecutionTask).where(ExecutionTask.case_id.in_(case_ids))
                                       .order_by(ExecutionTask.id)).scalars():
            out[task.case_id].append(task)
    return out


# ---------------------------------------------------------------- the case page: history, progress, money

# what a person writes with an action (workflows/fields.py): shown in the history and the API's events
TEXT_FIELDS = ("description", "reason", "note", "statement", "findings", "rule")
# what else an action carries that a reader needs, in the order the history shows it
DETAIL_FIELDS = ("type", "party", "remedy", "carrier", "tracking_no", "penalties")
STEP_PHASES = ("negotiation", "complaint", "mediation", "resolution", "execution")
QUIET_TRIGGERS = ("check",)  # steps that change nothing a party needs to read


@dataclass
class Step:
    """One step of the case history (协商历史): an audit event with the words and evidence around it."""
    event: CaseEvent
    texts: list = field(default_factory=list)      # [(field name, text)]
    details: list = field(default_factory=list)    # [(field name, value)]
    evidence: list = field(default_factory=list)   # [Evidence] uploaded with (before) this step by the same party

    @property
    def role(self):
        return self.event.actor_role

    @property
    def phase(self):
        return self.event.from_phase or self.event.to_phase

    @property
    def amount_fen(self):
        value = (self.event.payload or {}).get("amount_fen")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


CODES_BY_TRIGGER = {"open": ("kind", "reason")}  # the request's reason is a code, not words


def _step(event):
    payload, codes = event.payload or {}, CODES_BY_TRIGGER.get(event.trigger, ())
    return Step(event, texts=[(n, payload[n]) for n in TEXT_FIELDS
                              if n not in codes and isinstance(payload.get(n), str) and payload[n]],
                details=[(n, payload[n]) for n in codes + DETAIL_FIELDS if payload.get(n)])


def history_for(case, evidence=()):
    """[Step] oldest first. Each upload of evidence joins the step it was sent with (photos filed with the
    request), else the next step its uploader took (a seller uploads, then refuses), else that uploader's
    last step, else stands alone. `evidence` is what the viewer may see."""
    events = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                .order_by(CaseEvent.seq)).scalars().all()
    by_id = {e.id: e for e in evidence}
    steps, pending = [], {}  # pending: uploader role -> evidence not yet joined to a step
    uploads = []
    for event in events:
        if event.trigger == "upload_evidence":
            item = by_id.get((event.payload or {}).get("evidence_id"))
            with_step = next((s for s in reversed(steps) if s.role == event.actor_role
                              and s.event.created_at == event.created_at), None)
            if item is not None and with_step is not None:  # sent with that step (photos filed with the request)
                with_step.evidence.append(item)
            elif item is not None:
                pending.setdefault(event.actor_role, []).append(item)
                uploads.append((event, item))
            continue
        if event.trigger in QUIET_TRIGGERS:
            continue
        step = _step(event)
        step.evidence = pending.pop(event.actor_role, [])
        steps.append(step)
    for role, items in pending.items():
        last = next((s for s in reversed(steps) if s.role == role), None)
        if last is not None:
            last.evidence.extend(items)
        else:
            upload_event = next(e for e, item in uploads if item is items[0])
            steps.append(Step(upload_event, evidence=items))
    steps.sort(key=lambda s: s.event.seq)
    return steps


def event_extras(case, evidence):
    """{event id: (texts, evidence ids)} for the API's events: the history's words and evidence per event."""
    out = {}
    for step in history_for(case, evidence):
        out[step.event.id] = (dict(step.texts), [e.id for e in step.evidence])
    return out


@dataclass
class Progress:
    """售后进度: where the case stands, who must act by when, and what happens then."""
    steps: list            # [(phase, "done" | "current" | "skipped" | "todo")]
    waiting_for: str | None
    due_at: object
    seconds_left: int | None
    on_timeout_text: object
    confirmations: list    # [(party, "accepted" | "pending" | "rejected", at)] in resolution


def progress_for(case, tasks, now):
    """The progress block of the case page. In execution the deadline that matters is the task waiting for a
    party (the seller's payment, a shipment), else the case's own."""
    from ..labels import TASK_TIMEOUT_NEXT, timeout_next
    visited = set(db.session.execute(select(CaseEvent.to_phase).where(CaseEvent.case_id == case.id)).scalars())
    visited |= set(db.session.execute(select(CaseEvent.from_phase).where(CaseEvent.case_id == case.id)).scalars())
    current = case.phase if case.phase in STEP_PHASES else None
    at = STEP_PHASES.index(current) if current else len(STEP_PHASES)
    steps = []
    for i, phase in enumerate(STEP_PHASES):
        if phase == current:
            steps.append((phase, "current"))
        elif phase in visited:
            steps.append((phase, "done"))
        else:
            steps.append((phase, "skipped" if i < at else "todo"))
    due, text, waiting = case.due_at, None, case.waiting_for
    if case.on_timeout:
        text = timeout_next(case.phase, case.on_timeout, case.kind)
    task = next((t for t in tasks if t.state != "done" and t.waiting_for not in (None, "system") and t.due_at), None)
    if case.phase == "execution" and task is not None:
        due, waiting, text = task.due_at, task.waiting_for, TASK_TIMEOUT_NEXT.get(task.on_timeout)
    confirmations = []
    if case.phase == "resolution":
        rejected_by = None
        if case.state == "rejected":
            rejected_by = db.session.execute(select(CaseEvent.actor_role).where(
                CaseEvent.case_id == case.id, CaseEvent.trigger == "reject_proposal")
                .order_by(CaseEvent.seq.desc()).limit(1)).scalar()
        for party in ("buyer", "seller"):
            at_ = getattr(case, f"{party}_accepted_at")
            status = ("accepted" if at_ else "rejected" if party == rejected_by
                      else "not_needed" if rejected_by else "pending")
            confirmations.append((party, status, at_))
    seconds = int((due - now).total_seconds()) if due is not None else None
    return Progress(steps, waiting, due, seconds, text, confirmations)


def shop_listings(shop_id):
    """[(id, title)] of a shop's listings, for a takedown penalty."""
    from ..catalog.models import Product
    return db.session.execute(select(Product.id, Product.title).where(Product.shop_id == shop_id)
                              .order_by(Product.id)).all()


def case_rating(case_id):
    """The buyer's after-sales rating of the case (售后服务评价), or None."""
    return db.session.execute(select(CaseRating).where(CaseRating.case_id == case_id)).scalar_one_or_none()
