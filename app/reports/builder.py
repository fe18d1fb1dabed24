"""What a case report shows, gathered read-only through the areas' queries: the case, its order snapshot,
history and timeline, thread and order chat, evidence (with the thumbnails the PDF may load), remedy,
execution with its ledger entries, and the audit check."""
from dataclasses import dataclass

from sqlalchemy import func, select

from ..auth.policy import can_see_ledger, contributor_role
from ..cases.audit import check_case
from ..cases.models import CaseEvent, CaseMessage
from ..cases.queries import case_ledger, case_tasks, events_for, history_for, messages_for, shop_listings
from ..chat.models import OrderMessage
from ..chat.queries import order_messages
from ..evidence.queries import evidence_for
from ..execution.models import ExecutionTask
from ..extensions import db
from ..orders.queries import money_for
from ..payments.models import JournalEntry
from ..shipping.models import Shipment

ALL = 1_000_000  # "every row": the report is complete, never a page of the thread


@dataclass(frozen=True)
class Viewer:
    """What the reader may see beyond the case itself: the evidence (parties and the mediator, as on the
    case page) and the ledger's account codes (mediators and admins: policy.can_see_ledger)."""
    evidence: bool
    ledger: bool

    @classmethod
    def of(cls, user, case):
        if user is None:  # the operator's `flask report case`
            return cls(evidence=True, ledger=True)
        return cls(evidence=contributor_role(user, case) is not None, ledger=can_see_ledger(user))


def fingerprint(case, viewer):
    """Everything that changes the report besides the template and the language, read in one query: the
    audit head (every case event, evidence upload included), the case and order versions, and what moves
    without an event — thread and order-chat messages, ledger entries (an advance recovered after the
    case closed), execution tasks and shipments."""
    order_id = case.order_id or 0

    def last(column, *where):
        return select(func.max(column)).where(*where).scalar_subquery()

    row = db.session.execute(select(
        last(CaseMessage.id, CaseMessage.case_id == case.id),
        last(OrderMessage.id, OrderMessage.order_id == order_id),
        last(JournalEntry.id, JournalEntry.case_id == case.id),
        last(JournalEntry.id, JournalEntry.order_id == order_id),
        select(func.sum(ExecutionTask.version)).where(ExecutionTask.case_id == case.id).scalar_subquery(),
        last(Shipment.id, Shipment.order_id == order_id),
        select(func.count(Shipment.signed_at)).where(Shipment.order_id == order_id).scalar_subquery(),
    )).one()
    return [case.id, case.audit_head, case.version, case.order.version if case.order else None,
            *[int(v or 0) for v in row], viewer.evidence, viewer.ledger]


def build_report(case, viewer, now):
    """(template context of the report, SHA-256 of the thumbnails it may load)."""
    evidence = evidence_for(case, per_page=ALL)[0] if viewer.evidence else []
    messages = messages_for(case, per_page=ALL)[0]
    chat = order_messages(case.order_id, per_page=ALL)[0] if case.order_id else []
    tasks = case_tasks([case.id])[case.id]
    history = history_for(case, evidence)
    # each party's confirmation or rejection of a proposal, with its time and reason
    confirmations = db.session.execute(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.trigger.in_(("accept_proposal", "reject_proposal")))
        .order_by(CaseEvent.seq)).scalars().all()
    context = dict(
        case=case, order=case.order, viewer=viewer, generated_at=now, audit=check_case(case),
        events=events_for(case, per_page=ALL)[0], history=history, messages=messages, chat=chat,
        evidence=evidence, tasks=tasks, ledger=case_ledger([case.id])[case.id], confirmations=confirmations,
        money=money_for([case.order_id])[case.order_id] if case.order_id else None,
        listing_titles=dict(shop_listings(case.shop_id)),
        # a party rejected the proposal and the mediator ruled: the routes outside the platform (seed)
        outside_routes=case.remedy_final and any(c.trigger == "reject_proposal" for c in confirmations))
    return context, {e.thumb_sha256 for e in evidence if e.thumb_sha256}
