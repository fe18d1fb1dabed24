"""The hash-chained audit trail: each event's hash covers the previous hash and the event.

Each event is also anchored: an `AuditAnchor` row (insert-only, enforced by the database) records the
case's chain head and event count in the event's transaction. `check_case` — shared by `flask audit
verify`, the API and the case page — checks the chain, its anchors, the case row and the case's ledger
entries against the events."""
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import inspect, select, text
from sqlalchemy.event import listens_for

from ..extensions import db
from ..payments.models import Account, JournalEntry, JournalLine
from ..timeutil import isoformat
from .models import AuditAnchor, Case, CaseEvent

FIELDS = ("case_id", "seq", "actor_id", "actor_role", "trigger", "from_phase", "from_state", "to_phase",
          "to_state", "payload")
# entries an execution task posts after the case completed (recovering a platform advance from the shop)
AFTER_COMPLETION = ("recovery", "receivable_settled")
PENDING = "audit_events_to_anchor"       # session.info: this transaction's events, anchored at commit
ANCHOR_LOCK = 0x7469616f6a6965           # pg_advisory_xact_lock key of the anchor log ("tiaojie")


def event_hash(prev_hash, event):
    body = {name: getattr(event, name) for name in FIELDS}
    body["created_at"] = isoformat(event.created_at)
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + data).encode()).hexdigest()


def append_event(case, *, actor, role, trigger, before, payload, now):
    """Add the next event of `case` to the session and move the case's chain head; its anchor is written
    when the transaction commits (`_anchor_events`)."""
    event = CaseEvent(case_id=case.id, seq=case.event_count + 1, actor_id=actor.id if actor else None,
                      actor_role=role, trigger=trigger, from_phase=before[0], from_state=before[1],
                      to_phase=case.phase, to_state=case.state, payload=payload, created_at=now,
                      prev_hash=case.audit_head)
    event.hash = event_hash(case.audit_head, event)
    case.audit_head, case.event_count = event.hash, event.seq
    db.session.add(event)
    db.session.info.setdefault(PENDING, []).append(event)
    return event


def anchor_hash(prev_hash, case_id, seq, head_hash, event_count):
    return hashlib.sha256(f"{prev_hash}:{case_id}:{seq}:{head_hash}:{event_count}".encode()).hexdigest()


@listens_for(db.session, "before_commit")
def _anchor_events(session):
    """Anchor the transaction's events just before it commits: on PostgreSQL under a transaction-scoped
    advisory lock, so the anchors of concurrent transactions chain one after the other. Taken this late,
    after the last flush, the lock is never held while waiting for a row. Events a rolled-back savepoint
    undid are no longer in the session and get no anchor."""
    if session.in_nested_transaction() or not session.info.get(PENDING):
        return
    session.flush()
    events = [e for e in session.info.pop(PENDING) if e in session and inspect(e).persistent]
    if not events:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ANCHOR_LOCK})
    prev = session.execute(select(AuditAnchor.chain_hash).order_by(AuditAnchor.id.desc()).limit(1)).scalar() or ""
    for event in events:
        prev = anchor_hash(prev, event.case_id, event.seq, event.hash, event.seq)
        session.add(AuditAnchor(case_id=event.case_id, seq=event.seq, head_hash=event.hash, event_count=event.seq,
                                chain_hash=prev, created_at=event.created_at))
    session.flush()


def _ledger(case_id):
    """[[idempotency key, kind, amount]] of the case's entries, those recovering an advance left out."""
    entries = db.session.execute(select(JournalEntry).where(
        JournalEntry.case_id == case_id, JournalEntry.kind.notin_(AFTER_COMPLETION))
        .order_by(JournalEntry.id)).scalars()
    return [[e.idempotency_key, e.kind, e.amount_fen] for e in entries]


def _lines(case_id):
    """[[idempotency key, account code, amount]] of the lines of those entries: where the money went."""
    rows = db.session.execute(select(JournalEntry.idempotency_key, Account.code, JournalLine.amount_fen)
                              .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
                              .join(Account, Account.id == JournalLine.account_id)
                              .where(JournalEntry.case_id == case_id, JournalEntry.kind.notin_(AFTER_COMPLETION))
                              .order_by(JournalEntry.id, JournalLine.id))
    return [list(row) for row in rows]


def _digest(ledger):
    return hashlib.sha256(json.dumps(ledger, separators=(",", ":")).encode()).hexdigest()


def ledger_record(case_id):
    """What the event completing a case records of its money: the number and a digest of its entries
    (the entries themselves are for mediators and admins, and events are shown to the parties), and a
    digest of their lines: the accounts the money went to."""
    ledger = _ledger(case_id)
    return {"entries": len(ledger), "sha256": _digest(ledger), "lines_sha256": _digest(_lines(case_id))}


def _events(case_id):
    return db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)
                              .order_by(CaseEvent.seq)).scalars().all()


def _chain_problems(events):
    prev = ""
    for n, event in enumerate(events, start=1):
        if event.seq != n:
            return [f"event {n} is missing (found seq {event.seq})"]
        if event.prev_hash != prev:
            return [f"event {n} does not link to event {n - 1}"]
        if event_hash(prev, event) != event.hash:
            return [f"event {n} does not match its hash"]
        prev = event.hash
    return []


def verify_chain(case):
    """(valid, number of events): every hash recomputes and links to the one before."""
    events = _events(case.id)
    return not _chain_problems(events) and (events[-1].hash if events else "") == case.audit_head, len(events)


@dataclass(frozen=True)
class AuditResult:
    valid: bool
    events: int
    anchors: int
    problems: tuple


def check_case(case):
    """The whole check of one case: (a) the chain recomputes and links, (b) it matches the anchor log
    event by event and in length, (c) the case row agrees with the chain, (d) the case's ledger entries
    are those its events recorded."""
    events = _events(case.id)
    anchors = db.session.execute(select(AuditAnchor).where(AuditAnchor.case_id == case.id)
                                 .order_by(AuditAnchor.seq, AuditAnchor.id)).scalars().all()
    problems = (_chain_problems(events) + _anchor_problems(events, anchors) + _row_problems(case, events)
                + _ledger_problems(case, events))
    return AuditResult(not problems, len(events), len(anchors), tuple(problems))


def _anchor_problems(events, anchors):
    problems = []
    if [a.seq for a in anchors] != list(range(1, len(anchors) + 1)):
        problems.append("the anchor log of the case has gaps or repeats")
    by_seq = {e.seq: e for e in events}
    changed = [a.seq for a in anchors if a.seq in by_seq and (
        by_seq[a.seq].hash != a.head_hash or a.event_count != a.seq)]
    if changed:
        problems.append(f"event {changed[0]} does not match its anchor")
    if len(anchors) != len(events):
        problems.append(f"the anchor log records {len(anchors)} events but the chain has {len(events)}")
    return problems


def _row_problems(case, events):
    problems, last = [], events[-1] if events else None
    if case.audit_head != (last.hash if last else "") or case.event_count != len(events):
        problems.append(f"the case row's chain head or count ({case.event_count}) differs from the chain")
    if last is not None and (case.phase, case.state) != (last.to_phase, last.to_state):
        problems.append(f"the case row is {case.phase}/{case.state} but its last event ends in "
                        f"{last.to_phase}/{last.to_state}")
    return problems


def _ledger_problems(case, events):
    """The case's entries are those the event that completed its execution recorded, unchanged (entries
    recovering an advance come later and are left out); completions written before the record existed
    cannot be checked this way, and a case that never completed has no entries."""
    ledger = _ledger(case.id)
    completions = [e for e in events if e.trigger == "complete"]
    if completions and "ledger" not in (completions[-1].payload or {}):
        return []
    if not completions:
        return [f"{len(ledger)} ledger entries of the case but no event recorded them"] if ledger else []
    last = completions[-1]
    recorded = last.payload["ledger"]
    if (recorded.get("entries"), recorded.get("sha256")) != (len(ledger), _digest(ledger)):
        return [f"the case's ledger entries differ from those event {last.seq} recorded "
                f"({len(ledger)} now, {recorded.get('entries')} recorded)"]
    # (completions recorded before the lines were covered carry no lines_sha256)
    if "lines_sha256" in recorded and recorded["lines_sha256"] != _digest(_lines(case.id)):
        return [f"the lines of the case's ledger entries differ from those event {last.seq} recorded"]
    return []


def check_anchor_log():
    """(problems, head): every anchor's chain_hash links to the anchor before it, across all cases — so an
    anchor rewritten, or one other than the newest removed, shows. `head` is the newest chain_hash: kept
    outside the database, it shows the newest anchors removed too."""
    prev, problems = "", []
    rows = db.session.execute(select(AuditAnchor.id, AuditAnchor.case_id, AuditAnchor.seq, AuditAnchor.head_hash,
                                     AuditAnchor.event_count, AuditAnchor.chain_hash).order_by(AuditAnchor.id))
    for anchor_id, case_id, seq, head, count, chain in rows:
        if anchor_hash(prev, case_id, seq, head, count) != chain:
            problems.append(f"anchor {anchor_id} (case id {case_id}, event {seq}) does not link to the anchor "
                            f"before it")
            break
        prev = chain
    return problems, prev


def check_all(case_id=None):
    """[(case, AuditResult)] for every case (or the one), oldest first."""
    query = select(Case).order_by(Case.id)
    if case_id is not None:
        query = query.where(Case.id == case_id)
    return [(case, check_case(case)) for case in db.session.execute(query).scalars()]
