from workflows.fields import CARRIERS  # noqa: F401  (labels in app/labels.py)

from ..extensions import db
from ..timeutil import utcnow

DIRECTIONS = ("forward", "return", "replacement")


class Shipment(db.Model):
    __tablename__ = "shipments"
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"), nullable=False, index=True)
    direction = db.Column(db.String(16), nullable=False, default="forward")
    carrier = db.Column(db.String(32), nullable=False)
    tracking_no = db.Column(db.String(64), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="in_transit")  # in_transit / signed
    shipped_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    signed_at = db.Column(db.DateTime)

    __table_args__ = (
        db.CheckConstraint("direction IN ('forward', 'return', 'replacement')", name="direction"),
        db.CheckConstraint("status IN ('in_transit', 'signed')", name="status"),
    )

    order = db.relationship("Order", back_populates="shipments")
