from ..extensions import db
from ..timeutil import utcnow

case_message_evidence = db.Table(
    "case_message_evidence",
    db.Column("message_id", db.Integer, db.ForeignKey("case_messages.id"), primary_key=True),
    db.Column("evidence_id", db.Integer, db.ForeignKey("evidence.id"), primary_key=True),
)


class OrderMessage(db.Model):
    """The buyer–seller conversation on an order (旺旺), before and beside any dispute; never edited."""
    __tablename__ = "order_messages"
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"), nullable=False, index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    author_role = db.Column(db.String(16), nullable=False)
    body = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    author = db.relationship("User")
