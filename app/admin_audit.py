"""The admin audit log: every write an admin (or a mediator acting outside a case) makes to users,
rules, teams, deposits, buyer flags and tasks leaves one row here — who, what, on what, why — in the
write's own transaction. Rows chain by hash like the case events (`prev_hash` → `hash`), so a row
edited or removed afterwards shows in `verify()`."""
import hashlib
import json

from sqlalchemy import select, text

from workflows.problems import Problem

from .extensions import db
from .timeutil import isoformat, utcnow

MAX_REASON = 1000  # characters of the reason every admin write gives
LOCK = 0x7469616f61646d  # pg_advisory_xact_lock key of the admin log: rows chain one after the other


class AdminEvent(db.Model):
    __tablename__ = "admin_events"
    id = db.Column(db.Integer, primary_key=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))          # None: the system (a rules threshold)
    action = db.Column(db.String(48), nullable=False)                    # e.g. rules.update, buyer.flag
    target_type = db.Column(db.String(32), nullable=False)               # user / shop / rule / team / task
    target_id = db.Column(db.String(64), nullable=False)
    reason = db.Column(db.Text, nullable=False, default="")
    detail = db.Column(db.JSON, nullable=False, default=dict)            # before / after
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    prev_hash = db.Column(db.String(64), nullable=False)
    hash = db.Column(db.String(64), nullable=False, unique=True)

    __table_args__ = (db.Index("ix_admin_events_target", "target_type", "target_id", "id"),)

    actor = db.relationship("User")


FIELDS = ("actor_id", "action", "target_type", "target_id", "reason", "detail")


def _hash(prev_hash, event):
    body = {name: getattr(event, name) for name in FIELDS}
    body["created_at"] = isoformat(event.created_at)
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + data).encode()).hexdigest()


def reason_problem(reason):
    """(the reason stripped, a Problem or None): every admin write needs a reason of at most MAX_REASON."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        return reason, Problem("required", "required")
    if len(reason) > MAX_REASON:
        return reason, Problem(f"at most {MAX_REASON} characters", "too_long", max=MAX_REASON)
    return reason, None


def record(actor, action, target_type, target_id, *, reason="", detail=None, now=None):
    """Add one admin event to the caller's transaction (call it inside `transaction()`)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
    prev = db.session.execute(select(AdminEvent.hash).order_by(AdminEvent.id.desc()).limit(1)).scalar() or ""
    event = AdminEvent(actor_id=actor.id if actor is not None else None, action=action, target_type=target_type,
                       target_id=str(target_id), reason=reason or "", detail=detail or {},
                       created_at=now or utcnow(), prev_hash=prev)
    event.hash = _hash(prev, event)
    db.session.add(event)
    db.session.flush()
    return event


def verify():
    """The ids of rows whose hash or link does not match (empty when the log is intact)."""
    bad, prev = [], ""
    for event in db.session.execute(select(AdminEvent).order_by(AdminEvent.id)).scalars():
        if event.prev_hash != prev or event.hash != _hash(prev, event):
            bad.append(event.id)
        prev = event.hash
    return bad


def events_for(target_type, target_id, limit=50):
    return db.session.execute(select(AdminEvent).where(
        AdminEvent.target_type == target_type, AdminEvent.target_id == str(target_id))
        .order_by(AdminEvent.id.desc()).limit(limit)).scalars().all()
