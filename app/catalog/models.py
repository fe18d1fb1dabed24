from ..extensions import db
from ..timeutil import utcnow

CATEGORIES = ("apparel", "electronics", "home", "food", "beauty", "books", "sports", "toys")
SERVICE_PROMISES = ("no_reason_7d", "ship_48h", "genuine_guarantee", "free_return_shipping")


class Shop(db.Model):
    __tablename__ = "shops"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(128), nullable=False, unique=True)
    # main category (主营类目): the shop's metrics are compared with the average of its category
    category = db.Column(db.String(32), nullable=False, default="home", server_default="home", index=True)
    required_deposit_fen = db.Column(db.BigInteger, nullable=False, default=0)  # 保证金 the shop must hold
    points = db.Column(db.Integer, nullable=False, default=0)  # penalty points deducted
    restricted_until = db.Column(db.DateTime)                  # penalty: restricted selling
    is_blacklisted = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    products = db.relationship("Product", back_populates="shop", order_by="Product.id")


class Product(db.Model):
    """A listing. `status` is on_sale or taken_down (下架, also a penalty)."""
    __tablename__ = "products"
    id = db.Column(db.Integer, primary_key=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    category = db.Column(db.String(32), nullable=False)
    price_fen = db.Column(db.BigInteger, nullable=False)
    ship_within_hours = db.Column(db.Integer, nullable=False, default=48)
    service_promises = db.Column(db.JSON, nullable=False, default=list)
    status = db.Column(db.String(16), nullable=False, default="on_sale")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        db.CheckConstraint("price_fen > 0", name="price_positive"),
        db.CheckConstraint("status IN ('on_sale', 'taken_down')", name="status"),
    )

    shop = db.relationship("Shop", back_populates="products")


class ReturnAddress(db.Model):
    """A shop's return address (退货地址): chosen when the seller agrees to a return or exchange."""
    __tablename__ = "return_addresses"
    id = db.Column(db.Integer, primary_key=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), nullable=False, index=True)
    contact = db.Column(db.String(64), nullable=False)
    phone = db.Column(db.String(32), nullable=False)
    address = db.Column(db.String(255), nullable=False)
    is_default = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    def snapshot(self):
        return {"id": self.id, "contact": self.contact, "phone": self.phone, "address": self.address}
