"""Reads for order pages and the API."""
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..auth.policy import ensure_can_view_order, visible_orders_clause
from ..errors import NotFound
from ..extensions import db
from ..payments.models import Account, JournalEntry, JournalLine, sum_fen
from .models import Order

REFUND_KINDS = ("refund", "seller_refund", "advance", "compensation")  # money that went back to the buyer


def orders_for(user, *, status=None, page=1, per_page=20):
    """(orders, total) visible to the user, newest first."""
    where = [visible_orders_clause(user, Order)]
    if status:
        where.append(Order.status == status)
    total = db.session.execute(select(func.count()).select_from(Order).where(*where)).scalar_one()
    rows = db.session.execute(
        select(Order).where(*where).order_by(Order.created_at.desc(), Order.id.desc())
        .options(selectinload(Order.items), selectinload(Order.shop), selectinload(Order.buyer),
                 selectinload(Order.shipments))
        .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return rows, total


def get_order(user, order_id):
    order = db.session.get(Order, order_id) if isinstance(order_id, int) else None
    if order is None:
        raise NotFound("Order not found")
    return ensure_can_view_order(user, order)


def money_for(order_ids):
    """{order_id: {paid_fen, refunded_fen, released_fen, escrow_fen, refundable_fen, late_compensation_fen}},
    two SQL queries. Late-shipment compensation is paid on top of the price: it is not refunded money."""
    money = {oid: dict(paid_fen=0, refunded_fen=0, released_fen=0, escrow_fen=0, late_compensation_fen=0)
             for oid in order_ids}
    if not order_ids:
        return money
    sums = db.session.execute(
        select(JournalEntry.order_id, JournalEntry.kind, sum_fen(JournalEntry.amount_fen))
        .where(JournalEntry.order_id.in_(order_ids)).group_by(JournalEntry.order_id, JournalEntry.kind))
    for oid, kind, amount in sums:
        key = {"pay": "paid_fen", "release": "released_fen", "late_compensation": "late_compensation_fen"}.get(
            kind, "refunded_fen" if kind in REFUND_KINDS else None)
        if key:
            money[oid][key] += amount
    escrow = db.session.execute(
        select(Account.order_id, sum_fen(JournalLine.amount_fen))
        .join(JournalLine, JournalLine.account_id == Account.id)
        .where(Account.kind == "escrow", Account.order_id.in_(order_ids)).group_by(Account.order_id))
    for oid, amount in escrow:
        money[oid]["escrow_fen"] = amount
    for m in money.values():
        m["refundable_fen"] = m["paid_fen"] - m["refunded_fen"]
    return money


# entries between the platform and the shop (an advance's receivable and its recovery): not the parties' money
PLATFORM_KINDS = ("receivable", "receivable_settled", "recovery")


def ledger_for(order_id, *, full=True, case_ids=None):
    """The journal entries of an order with their lines and account codes; without `full`, only the
    movements of the buyer's and the shop's own money (no platform-internal entries). With `case_ids` (the
    cases the reader may see), a case's entries only for those cases; the order's own entries always."""
    where = [JournalEntry.order_id == order_id, *(() if full else (JournalEntry.kind.not_in(PLATFORM_KINDS),))]
    if case_ids is not None:
        where.append(or_(JournalEntry.case_id.is_(None), JournalEntry.case_id.in_(case_ids)))
    return db.session.execute(
        select(JournalEntry).where(*where)
        .order_by(JournalEntry.id)
        .options(selectinload(JournalEntry.lines).selectinload(JournalLine.account))).scalars().all()
