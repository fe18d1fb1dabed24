from ..extensions import db
from ..timeutil import utcnow


class ExecutionTask(db.Model):
    """One remedy being carried out (workflows/tasks.py)."""
    __tablename__ = "execution_tasks"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), nullable=False, index=True)
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"), index=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), nullable=False, index=True)
    buyer_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    parent_id = db.Column(db.Integer, db.ForeignKey("execution_tasks.id"))  # recovery ← its refund task
    kind = db.Column(db.String(16), nullable=False)
    state = db.Column(db.String(20), nullable=False, default="pending")
    amount_fen = db.Column(db.BigInteger, nullable=False, default=0)
    paid_by = db.Column(db.String(16))          # escrow / seller / platform, once a refund is paid
    recovered_fen = db.Column(db.BigInteger, nullable=False, default=0)  # recovery: taken back so far
    detail = db.Column(db.JSON, nullable=False, default=dict)            # penalty: {kind, listing_id, points, days}
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_error = db.Column(db.String(500))
    due_at = db.Column(db.DateTime)
    on_timeout = db.Column(db.String(32))
    waiting_for = db.Column(db.String(16))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("task_id", "kind", name="uq_penalties_task_id_kind"),)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    version = db.Column(db.Integer, nullable=False, default=1)

    __table_args__ = (
        db.CheckConstraint("amount_fen >= 0 AND recovered_fen >= 0 AND recovered_fen <= amount_fen", name="amounts"),
        db.CheckConstraint("kind IN ('refund', 'compensation', 'exchange', 'recovery', 'penalty')", name="kind"),
        db.Index("ix_execution_tasks_due", "due_at", postgresql_where=db.text("due_at IS NOT NULL"),
                 sqlite_where=db.text("due_at IS NOT NULL")),
    )
    __mapper_args__ = {"version_id_col": version}

    case = db.relationship("Case")

    @property
    def owed_fen(self):
        return self.amount_fen - self.recovered_fen if self.kind == "recovery" else 0


class Penalty(db.Model):
    """A penalty recorded against a shop, with the case that caused it. A points penalty that crosses a
    threshold (workflows/penalties.py) adds a second row of the same task: the restriction or blacklist."""
    __tablename__ = "penalties"
    id = db.Column(db.Integer, primary_key=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), nullable=False, index=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), nullable=False, index=True)
    task_id = db.Column(db.Integer, db.ForeignKey("execution_tasks.id"), nullable=False)
    kind = db.Column(db.String(16), nullable=False)   # takedown / points / restrict / blacklist
    listing_id = db.Column(db.Integer, db.ForeignKey("products.id"))
    points = db.Column(db.Integer)
    until = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("task_id", "kind", name="uq_penalties_task_id_kind"),)
