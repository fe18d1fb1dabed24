"""The hash-chained audit trail: each event's hash covers the previous hash and the event."""
import hashlib
import json

from sqlalchemy import select

from ..extensions import db
from ..timeutil import isoformat
from .models import CaseEvent

FIELDS = ("case_id", "seq", "actor_id", "actor_role", "trigger", "from_phase", "from_state", "to_phase",
          "to_state", "payload")


def event_hash(prev_hash, event):
    body = {name: getattr(event, name) for name in FIELDS}
    body["created_at"] = isoformat(event.created_at)
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + data).encode()).hexdigest()


def append_event(case, *, actor, role, trigger, before, payload, now):
    """Add the next event of `case` to the session and move the case's chain head."""
    event = CaseEvent(case_id=case.id, seq=case.event_count + 1, actor_id=actor.id if actor else None,
                      actor_role=role, trigger=trigger, from_phase=before[0], from_state=before[1],
                      to_phase=case.phase, to_state=case.state, payload=payload, created_at=now,
                      prev_hash=case.audit_head)
    event.hash = event_hash(case.audit_head, event)
    case.audit_head, case.event_count = event.hash, event.seq
    db.session.add(event)
    return event


def verify_chain(case):
    """(valid, number of events): every hash recomputes and links to the one before."""
    events = db.session.execute(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars().all()
    prev = ""
    for n, event in enumerate(events, start=1):
        if event.seq != n or event.prev_hash != prev or event_hash(prev, event) != event.hash:
            return False, len(events)
        prev = event.hash
    return prev == case.audit_head, len(events)
