from ..extensions import db
from ..timeutil import utcnow

PHASES = ("negotiation", "complaint", "mediation", "resolution", "execution", "closed")
KINDS = ("refund_only", "return_refund", "exchange", "compensation", "complaint")


class Case(db.Model):
    """The case aggregate: one dispute from request to execution."""
    __tablename__ = "cases"
    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(32), nullable=False, unique=True)
    kind = db.Column(db.String(16), nullable=False)
    reason = db.Column(db.String(32))                 # after-sales reason code
    complaint_type = db.Column(db.String(32))         # set once the case is a complaint
    category = db.Column(db.String(32), index=True)   # the goods' category (order's first item or the listing)
    description = db.Column(db.Text, nullable=False, default="")
    item_ids = db.Column(db.JSON, nullable=False, default=list, server_default="[]")  # order items it is about
    # where the buyer sends the goods back: a copy of the shop's address chosen when agreeing to a return
    return_address = db.Column(db.JSON)               # {id, contact, phone, address}
    phase = db.Column(db.String(16), nullable=False)
    state = db.Column(db.String(32), nullable=False)
    amount_fen = db.Column(db.BigInteger, nullable=False, default=0)   # requested
    offer_fen = db.Column(db.BigInteger)                               # seller's counter-offer
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"), index=True)
    listing_id = db.Column(db.Integer, db.ForeignKey("products.id"))
    buyer_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), nullable=False, index=True)
    mediator_id = db.Column(db.Integer, db.ForeignKey("users.id"), index=True)
    modify_count = db.Column(db.Integer, nullable=False, default=0)
    evidence_party = db.Column(db.String(8))
    evidence_extended = db.Column(db.Boolean, nullable=False, default=False)
    # remedy (decided in negotiation, proposed or ruled in mediation)
    remedy_type = db.Column(db.String(16))
    remedy_amount_fen = db.Column(db.BigInteger, nullable=False, default=0)
    findings = db.Column(db.Text)
    rule_applied = db.Column(db.String(200))
    decided_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    remedy_final = db.Column(db.Boolean, nullable=False, default=False)
    penalties = db.Column(db.JSON, nullable=False, default=list)  # [{kind, listing_id | points | days}]
    # the mediator found the buyer at fault / malicious (恶意退款): left out of the shop's metrics
    buyer_malicious = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    buyer_accepted_at = db.Column(db.DateTime)
    seller_accepted_at = db.Column(db.DateTime)
    # deadline: fired by the sweeper as the system actor
    due_at = db.Column(db.DateTime)
    on_timeout = db.Column(db.String(32))
    waiting_for = db.Column(db.String(16))
    overdue_count = db.Column(db.Integer, nullable=False, default=0)
    # the sweeper's last unexpected failure on this case, and failures in a row (its back-off grows)
    sweep_error = db.Column(db.String(500))
    sweep_attempts = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    audit_head = db.Column(db.String(64), nullable=False, default="")  # hash of the last event
    event_count = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    closed_at = db.Column(db.DateTime)
    version = db.Column(db.Integer, nullable=False, default=1)

    __table_args__ = (
        db.CheckConstraint("amount_fen >= 0 AND remedy_amount_fen >= 0", name="amounts"),
        db.CheckConstraint("phase IN ('negotiation', 'complaint', 'mediation', 'resolution', 'execution', 'closed')",
                           name="phase"),
        db.CheckConstraint("phase = 'closed' OR (due_at IS NOT NULL AND waiting_for IS NOT NULL)",
                           name="open_case_has_deadline"),
        db.Index("ix_cases_due", "due_at", postgresql_where=db.text("due_at IS NOT NULL"),
                 sqlite_where=db.text("due_at IS NOT NULL")),
    )
    __mapper_args__ = {"version_id_col": version}

    order = db.relationship("Order")
    buyer = db.relationship("User", foreign_keys=[buyer_id])
    mediator = db.relationship("User", foreign_keys=[mediator_id])
    shop = db.relationship("Shop")

    @property
    def order_shipped(self):
        return self.order is not None and self.order.shipped_at is not None


class CaseEvent(db.Model):
    """One state change; `hash` chains it to the case's previous event so tampering shows."""
    __tablename__ = "case_events"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), nullable=False)
    seq = db.Column(db.Integer, nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    actor_role = db.Column(db.String(16), nullable=False)
    trigger = db.Column(db.String(32), nullable=False)
    from_phase = db.Column(db.String(16))
    from_state = db.Column(db.String(32))
    to_phase = db.Column(db.String(16), nullable=False)
    to_state = db.Column(db.String(32), nullable=False)
    payload = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    prev_hash = db.Column(db.String(64), nullable=False)
    hash = db.Column(db.String(64), nullable=False)

    __table_args__ = (db.UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),)


class CaseMessage(db.Model):
    """The case thread: buyer, seller, mediator and system messages; never edited or deleted."""
    __tablename__ = "case_messages"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), nullable=False, index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    author_role = db.Column(db.String(16), nullable=False)
    body = db.Column(db.Text, nullable=False)
    event_id = db.Column(db.Integer, db.ForeignKey("case_events.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    event = db.relationship("CaseEvent")
    author = db.relationship("User")
    attachments = db.relationship("Evidence", secondary="case_message_evidence", order_by="Evidence.id")


class AuditAnchor(db.Model):
    """The append-only anchor log: one row per event, written in the event's transaction, recording the
    case's chain head and event count at that point. The database refuses UPDATE and DELETE on it
    (triggers from the migration), so a chain recomputed or cut back no longer matches its anchors.
    `chain_hash` links every anchor, across all cases, to the one before it (by id)."""
    __tablename__ = "audit_anchors"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), nullable=False)
    seq = db.Column(db.Integer, nullable=False)
    head_hash = db.Column(db.String(64), nullable=False)
    event_count = db.Column(db.Integer, nullable=False)
    chain_hash = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("case_id", "seq", name="uq_audit_anchors_case_seq"),)


class CaseRating(db.Model):
    """After-sales service rating (售后服务评价): once a case closes, its buyer rates how it was handled,
    once (1–5 and a comment); it feeds the shop's service metrics and the buyer's credit."""
    __tablename__ = "case_ratings"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), nullable=False, unique=True)
    buyer_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), nullable=False)
    score = db.Column(db.Integer, nullable=False)
    comment = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (db.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
                      db.Index("ix_case_ratings_shop_created", "shop_id", "created_at"))

    case = db.relationship("Case")
