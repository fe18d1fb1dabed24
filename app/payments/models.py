"""Double-entry ledger in integer fen. A line's amount is signed; every entry sums to 0.

Account codes (DOMAIN.md): buyer:<user>:funding, escrow:<order>, seller:<shop>:balance,
seller:<shop>:deposit, seller:<shop>:funding (the shop's bank, source of its deposit),
platform:guarantee, platform:capital (source of the guarantee fund),
platform:receivable:<shop>."""
from sqlalchemy import BigInteger, cast, func

from ..extensions import db
from ..timeutil import utcnow

def sum_fen(column):
    """SUM as an integer on every database (PostgreSQL sums bigint to numeric)."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


# Accounts that must never go below zero.
NON_NEGATIVE_KINDS = ("escrow", "seller_balance", "seller_deposit", "platform_guarantee")


class Account(db.Model):
    __tablename__ = "accounts"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(64), nullable=False, unique=True)
    kind = db.Column(db.String(32), nullable=False)
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"), index=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), index=True)


class JournalEntry(db.Model):
    __tablename__ = "journal_entries"
    id = db.Column(db.Integer, primary_key=True)
    idempotency_key = db.Column(db.String(128), nullable=False, unique=True)
    kind = db.Column(db.String(32), nullable=False)   # pay, release, refund, deposit, fund …
    amount_fen = db.Column(db.BigInteger, nullable=False)  # the sum of the positive lines
    order_id = db.Column(db.Integer, db.ForeignKey("orders.id"), index=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), index=True)
    task_id = db.Column(db.Integer, db.ForeignKey("execution_tasks.id"), index=True)
    memo = db.Column(db.String(255), nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    lines = db.relationship("JournalLine", back_populates="entry", order_by="JournalLine.id")

    __table_args__ = (db.CheckConstraint("amount_fen > 0", name="amount_positive"),)


class JournalLine(db.Model):
    __tablename__ = "journal_lines"
    id = db.Column(db.Integer, primary_key=True)
    entry_id = db.Column(db.Integer, db.ForeignKey("journal_entries.id"), nullable=False, index=True)
    account_id = db.Column(db.Integer, db.ForeignKey("accounts.id"), nullable=False, index=True)
    amount_fen = db.Column(db.BigInteger, nullable=False)

    entry = db.relationship("JournalEntry", back_populates="lines")
    account = db.relationship("Account")

    __table_args__ = (db.CheckConstraint("amount_fen <> 0", name="amount_nonzero"),)
