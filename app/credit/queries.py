"""A buyer's credit figures, read by the database: over all time and over the rules' window
(`credit_window_days`), one aggregate query over the buyer's cases and one over their ratings.

Definitions (each counted on the buyer's cases):
- requests: after-sales requests filed (售后申请: every kind but a complaint), by when they were filed;
- complaints: complaints filed directly (投诉), by when they were filed;
- withdrawn: cases the buyer withdrew, by when they closed;
- rulings against the buyer: mediator decisions that became binding (a proposal accepted by both parties or by
  silence, or a final ruling) and dismissed the claim or granted less money than asked — by when they bound;
  `dismissed` counts the dismissals among them;
- found malicious: binding decisions with the finding "buyer at fault / malicious";
- ratings given: after-sales service ratings (售后服务评价) the buyer wrote, by when they were written."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, func, select

from workflows.fields import REMEDIES_WITH_AMOUNT

from ..admin_audit import AdminEvent
from ..auth.models import User
from ..auth.policy import visible_cases_clause
from ..cases.models import Case, CaseEvent, CaseRating
from ..errors import NotFound
from ..extensions import db

FIGURES = ("requests", "complaints", "withdrawn", "rulings_against", "dismissed", "malicious", "ratings")
# the events that make a mediator's decision binding (they leave the resolution phase)
BINDING_TRIGGERS = ("accept_proposal", "accept_by_silence", "rule")
FLAG_ACTIONS = ("buyer.flag", "buyer.unflag")
HISTORY_LIMIT = 100  # the newest changes of the flag shown


@dataclass(frozen=True)
class Credit:
    buyer: User
    window_days: int
    all_time: dict      # {figure: count}
    recent: dict        # {figure: count} within the window
    history: list       # [AdminEvent] of the flag (the admin audit log), newest first

    @property
    def flagged(self):
        return self.buyer.is_malicious_refund


def decided_at(buyer_id):
    """(case_id, at): when each of the buyer's cases got its binding mediator decision."""
    return (select(CaseEvent.case_id, func.max(CaseEvent.created_at).label("at"))
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.buyer_id == buyer_id, CaseEvent.trigger.in_(BINDING_TRIGGERS),
                   CaseEvent.from_phase == "resolution", CaseEvent.to_phase != "resolution")
            .group_by(CaseEvent.case_id).subquery())


def against_buyer():
    """A decided case went against the buyer: dismissed, or less money than asked."""
    return (Case.remedy_type == "dismiss") | (
        Case.remedy_type.in_(REMEDIES_WITH_AMOUNT) & (Case.remedy_amount_fen < Case.amount_fen))


def credit_figures(buyer_id, since):
    """({figure: all time}, {figure: since `since`}) for one buyer."""
    decided = decided_at(buyer_id)
    bound, recent_bound = decided.c.at.is_not(None), decided.c.at >= since
    conditions = {
        "requests": (Case.kind != "complaint", Case.created_at),
        "complaints": (Case.kind == "complaint", Case.created_at),
        "withdrawn": (Case.state == "withdrawn", Case.closed_at),
        "rulings_against": (bound & against_buyer(), None),
        "dismissed": (bound & (Case.remedy_type == "dismiss"), None),
        "malicious": (bound & Case.buyer_malicious.is_(True), None),
    }
    columns = []
    for condition, at in conditions.values():
        columns.append(func.count().filter(condition))
        columns.append(func.count().filter(and_(condition, at >= since if at is not None else recent_bound)))
    row = db.session.execute(select(*columns).select_from(Case)
                             .outerjoin(decided, decided.c.case_id == Case.id)
                             .where(Case.buyer_id == buyer_id)).one()
    ratings = db.session.execute(select(func.count(), func.count().filter(CaseRating.created_at >= since))
                                 .where(CaseRating.buyer_id == buyer_id)).one()
    names = list(conditions)
    all_time = {name: row[2 * i] for i, name in enumerate(names)} | {"ratings": ratings[0]}
    recent = {name: row[2 * i + 1] for i, name in enumerate(names)} | {"ratings": ratings[1]}
    return all_time, recent


def dismissed_since(buyer_id, since, *, after=None):
    """Claims of the buyer dismissed by a binding decision from `since` on, and after `after` when given
    (the threshold's count)."""
    decided = decided_at(buyer_id)
    query = (select(func.count()).select_from(Case).join(decided, decided.c.case_id == Case.id)
             .where(Case.remedy_type == "dismiss", decided.c.at >= since))
    if after is not None:
        query = query.where(decided.c.at > after)
    return db.session.execute(query).scalar_one()


def last_cleared_at(buyer_id):
    """When an admin last cleared the buyer's flag (None: never)."""
    return db.session.execute(select(func.max(AdminEvent.created_at)).where(
        AdminEvent.target_type == "user", AdminEvent.target_id == str(buyer_id),
        AdminEvent.action == "buyer.unflag")).scalar()


def can_view_credit(user, buyer_id):
    """Admins see every buyer's credit; a mediator sees the credit of a buyer with a case the mediator may see."""
    if user is None or user.role not in ("mediator", "admin"):
        return False
    if user.role == "admin":
        return True
    return db.session.execute(select(exists().where(Case.buyer_id == buyer_id,
                                                     visible_cases_clause(user, Case)))).scalar()


def credit_for(user, buyer_id, *, now, rules):
    """The buyer's Credit as `user` may see it (NotFound: no such buyer, or not visible to `user`)."""
    buyer = db.session.get(User, buyer_id) if isinstance(buyer_id, int) else None
    if buyer is None or buyer.role != "buyer" or not can_view_credit(user, buyer.id):
        raise NotFound("Buyer not found")
    days = rules["credit_window_days"]
    all_time, recent = credit_figures(buyer.id, now - timedelta(days=days))
    history = db.session.execute(select(AdminEvent).where(
        AdminEvent.target_type == "user", AdminEvent.target_id == str(buyer.id), AdminEvent.action.in_(FLAG_ACTIONS))
        .order_by(AdminEvent.id.desc()).limit(HISTORY_LIMIT)).scalars().all()
    return Credit(buyer=buyer, window_days=days, all_time=all_time, recent=recent, history=history)
