from ..extensions import db
from ..timeutil import utcnow

ORDER_STATUSES = ("created", "paid", "shipped", "delivered", "completed", "closed")


class Order(db.Model):
    __tablename__ = "orders"
    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(32), nullable=False, unique=True)
    buyer_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), nullable=False, index=True)
    status = db.Column(db.String(16), nullable=False, default="created")
    total_fen = db.Column(db.BigInteger, nullable=False)
    shipping_address = db.Column(db.String(255), nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    paid_at = db.Column(db.DateTime)
    ship_by = db.Column(db.DateTime)          # promised ship time, from the listing
    shipped_at = db.Column(db.DateTime)
    delivered_at = db.Column(db.DateTime)
    completed_at = db.Column(db.DateTime)
    closed_at = db.Column(db.DateTime)
    auto_confirm_at = db.Column(db.DateTime, index=True)  # fired by the deadline sweeper
    is_frozen = db.Column(db.Boolean, nullable=False, default=False)  # an open case holds it
    frozen_at = db.Column(db.DateTime)  # auto-confirmation resumes later by the frozen time
    # the sweeper's last unexpected failure on this order, and failures in a row (its back-off grows)
    sweep_error = db.Column(db.String(500))
    sweep_attempts = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    version = db.Column(db.Integer, nullable=False, default=1)

    __table_args__ = (
        db.CheckConstraint("total_fen > 0", name="total_positive"),
        db.CheckConstraint(
            "status IN ('created', 'paid', 'shipped', 'delivered', 'completed', 'closed')", name="status"),
    )
    __mapper_args__ = {"version_id_col": version}

    buyer = db.relationship("User")
    shop = db.relationship("Shop")
    items = db.relationship("OrderItem", back_populates="order", order_by="OrderItem.id")
    shipments = db.relationship("Shipment", back_populates="order", order_by="Shipment.id")


class OrderItem(db.Model):
    """A snapshot of the listing at order time: later edits to the listing don't change it."""
    __tablename__ = "order_items"
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"), nullable=False, index=True)
    product_id = db.Column(db.Integer, db.ForeignKey("products.id"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    category = db.Column(db.String(32), nullable=False)
    unit_price_fen = db.Column(db.BigInteger, nullable=False)
    quantity = db.Column(db.Integer, nullable=False)
    ship_within_hours = db.Column(db.Integer, nullable=False)
    service_promises = db.Column(db.JSON, nullable=False, default=list)

    __table_args__ = (db.CheckConstraint("quantity > 0", name="quantity_positive"),)

    order = db.relationship("Order", back_populates="items")

    @property
    def subtotal_fen(self):
        return self.unit_price_fen * self.quantity
