"""Messages: the case thread and the order chat. Plain text, never edited or deleted."""
from flask import current_app
from sqlalchemy import select

from ..ids import MAX_ID
from ..auth.policy import can_view_order, ensure_contributor, order_role
from ..cases.models import Case, CaseMessage
from ..db_tx import lock, transaction
from ..errors import ActionNotAvailable, Forbidden, Invalid, NotFound
from ..evidence.models import Evidence
from ..extensions import db
from ..orders.models import Order
from ..timeutil import utcnow
from .models import OrderMessage


def _clean_body(body):
    limit = current_app.config["MESSAGE_MAX_CHARS"]
    if not isinstance(body, str) or not body.strip():
        raise Invalid("The message is empty", {"body": "required"})
    if len(body) > limit:
        raise Invalid(f"A message has at most {limit} characters", {"body": f"at most {limit} characters"})
    return body.strip()


def post_case_message(case_id, *, actor, body, evidence_ids=(), now=None):
    now, body = now or utcnow(), _clean_body(body)
    if not isinstance(evidence_ids, (list, tuple)) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in evidence_ids):
        raise Invalid("evidence_ids must be a list of evidence ids", {"evidence_ids": "list of integers"})
    with transaction():
        case = lock(Case, case_id, fresh=True) if isinstance(case_id, int) else None
        if case is None:
            raise NotFound("Case not found")
        role = ensure_contributor(actor, case)
        if case.phase == "closed":
            raise ActionNotAvailable("The case is closed; its thread is read-only", {"available_actions": []})
        attachments = db.session.execute(select(Evidence).where(
            Evidence.id.in_(set(evidence_ids)), Evidence.case_id == case.id)).scalars().all()
        if len(attachments) != len(set(evidence_ids)):
            raise Invalid("Attach only evidence of this case", {"evidence_ids": "unknown evidence"})
        message = CaseMessage(case_id=case.id, author_id=actor.id, author_role=role, body=body, created_at=now,
                              attachments=attachments)
        db.session.add(message)
    return message


def post_order_message(order_id, *, actor, body, now=None):
    now, body = now or utcnow(), _clean_body(body)
    with transaction():
        order = db.session.get(Order, order_id) if isinstance(order_id, int) else None
        role = order_role(actor, order) if order is not None else None
        if role not in ("buyer", "seller"):
            if can_view_order(actor, order):
                raise Forbidden("Only the buyer and the seller write in the order chat")
            raise NotFound("Order not found")
        message = OrderMessage(order_id=order.id, author_id=actor.id, author_role=role, body=body, created_at=now)
        db.session.add(message)
    return message


