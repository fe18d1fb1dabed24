"""Every invariant of the money in one place (`flask payments verify`, and the property tests after
each step). Each check is one or two SQL aggregates over the whole ledger, never a query per row.

1. each entry balances: its lines sum to 0 and amount_fen = the sum of its positive lines;
2. all accounts together sum to 0;
3. guarded accounts (escrow, seller balance and deposit, platform guarantee) are >= 0;
4. only pay / refund / release entries touch escrow, and each order's escrow = paid − refunded − released;
5. a closed order holds nothing in escrow;
6. money to the buyer of an order <= paid + the capped late-shipment compensation, and the late-shipment
   compensation itself is at most one capped amount;
7. each shop's platform:receivable = advances paid for it − recoveries taken from it."""
from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from workflows.compensation import late_shipment_compensation

from ..extensions import db
from .models import NON_NEGATIVE_KINDS, Account, JournalEntry, JournalLine, sum_fen



def _table(name):
    """A table of an area above the ledger, read by name: payments imports no higher area."""
    return db.metadata.tables[name]

ESCROW_KINDS = {"pay": 1, "refund": -1, "release": -1}  # the only entry kinds that move escrow, and how
TO_BUYER_KINDS = ("refund", "seller_refund", "advance", "compensation", "late_compensation")


@dataclass(frozen=True)
class Violation:
    check: str
    message: str
    ids: dict = field(default_factory=dict)

    def __str__(self):
        ids = " ".join(f"{k}={v}" for k, v in self.ids.items())
        return f"{self.check}: {self.message} ({ids})" if ids else f"{self.check}: {self.message}"


def verify_money(rules=None):
    """[Violation] of every invariant, in the order above; empty when the money is sound."""
    if rules is None:
        from ..rules import get_rules
        rules = get_rules()
    return [*_entries_balance(), *_accounts_sum_to_zero(), *_guarded_not_negative(), *_escrow(),
            *_money_to_buyers(rules), *_receivables()]


def counts():
    """What the checks looked at, for the summary line."""
    one = lambda model: db.session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
    return {"entries": one(JournalEntry), "lines": one(JournalLine), "accounts": one(Account),
            "orders": one(_table("orders"))}


def _entries_balance():
    positive = sum_fen(case((JournalLine.amount_fen > 0, JournalLine.amount_fen), else_=0))
    total = sum_fen(JournalLine.amount_fen)
    rows = db.session.execute(
        select(JournalEntry.id, JournalEntry.idempotency_key, JournalEntry.amount_fen, total, positive)
        .outerjoin(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id, JournalEntry.idempotency_key, JournalEntry.amount_fen)
        .having((total != 0) | (positive != JournalEntry.amount_fen)).order_by(JournalEntry.id))
    return [Violation("entry_balances", f"entry {eid} ({key!r}): " + "; ".join(
        ([f"its lines sum to {s} fen, not 0"] if s else [])
        + ([f"its amount_fen is {amount} but its positive lines add up to {pos}"] if pos != amount else [])),
        {"entry_id": eid}) for eid, key, amount, s, pos in rows]


def _accounts_sum_to_zero():
    total = db.session.execute(select(sum_fen(JournalLine.amount_fen))).scalar_one()
    return [Violation("accounts_sum_to_zero", f"all accounts together hold {total} fen, not 0")] if total else []


def _guarded_not_negative():
    held = sum_fen(JournalLine.amount_fen)
    rows = db.session.execute(
        select(Account.id, Account.code, held).join(JournalLine, JournalLine.account_id == Account.id)
        .where(Account.kind.in_(NON_NEGATIVE_KINDS)).group_by(Account.id, Account.code)
        .having(func.sum(JournalLine.amount_fen) < 0).order_by(Account.id))
    return [Violation("guarded_not_negative", f"account {code} holds {amount} fen", {"account": code})
            for _, code, amount in rows]


def _escrow():
    orders, found = _table("orders"), []
    strangers = db.session.execute(
        select(JournalEntry.id, JournalEntry.kind, Account.code)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id).join(Account, Account.id == JournalLine.account_id)
        .where(Account.kind == "escrow", JournalEntry.kind.not_in(list(ESCROW_KINDS))).order_by(JournalEntry.id))
    found += [Violation("escrow_kinds", f"entry {eid} of kind {kind!r} moves {code}; only "
                        f"{', '.join(ESCROW_KINDS)} may", {"entry_id": eid, "account": code})
              for eid, kind, code in strangers]
    expected = {}
    for oid, kind, amount in db.session.execute(
            select(JournalEntry.order_id, JournalEntry.kind, sum_fen(JournalEntry.amount_fen))
            .where(JournalEntry.order_id.is_not(None), JournalEntry.kind.in_(list(ESCROW_KINDS)))
            .group_by(JournalEntry.order_id, JournalEntry.kind)):
        expected[oid] = expected.get(oid, 0) + ESCROW_KINDS[kind] * amount
    held = {oid: (amount, status) for oid, status, amount in db.session.execute(
        select(Account.order_id, orders.c.status, sum_fen(JournalLine.amount_fen))
        .join(JournalLine, JournalLine.account_id == Account.id).join(orders, orders.c.id == Account.order_id)
        .where(Account.kind == "escrow").group_by(Account.order_id, orders.c.status))}
    for oid in sorted(set(expected) | set(held)):
        amount, status = held.get(oid, (0, None))
        if amount != expected.get(oid, 0):
            found.append(Violation("escrow_matches_entries", f"order {oid}: escrow holds {amount} fen, but paid − "
                                   f"refunded − released is {expected.get(oid, 0)}", {"order_id": oid}))
        if status == "closed" and amount:
            found.append(Violation("closed_order_escrow_empty", f"order {oid} is closed with {amount} fen in escrow",
                                   {"order_id": oid, "account": f"escrow:{oid}"}))
    return found


def _money_to_buyers(rules):
    orders = _table("orders")
    per_order = {}  # order id → {"total": price, kind: fen}
    paid = db.session.execute(
        select(JournalEntry.order_id, orders.c.total_fen, sum_fen(JournalEntry.amount_fen))
        .join(orders, orders.c.id == JournalEntry.order_id).where(JournalEntry.kind == "pay")
        .group_by(JournalEntry.order_id, orders.c.total_fen))
    for oid, total, amount in paid:
        per_order.setdefault(oid, {"total": total})["pay"] = amount
    to_buyer = db.session.execute(
        select(JournalEntry.order_id, orders.c.total_fen, JournalEntry.kind, sum_fen(JournalLine.amount_fen))
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id).join(Account, Account.id == JournalLine.account_id)
        .join(orders, orders.c.id == JournalEntry.order_id)
        .where(Account.kind == "buyer_funding", JournalLine.amount_fen > 0, JournalEntry.kind.in_(TO_BUYER_KINDS))
        .group_by(JournalEntry.order_id, orders.c.total_fen, JournalEntry.kind))
    for oid, total, kind, amount in to_buyer:
        per_order.setdefault(oid, {"total": total})[kind] = amount
    found = []
    for oid, m in sorted(per_order.items()):
        cap, late = late_shipment_compensation(m["total"], rules), m.get("late_compensation", 0)
        if late > cap:
            found.append(Violation("late_compensation_capped", f"order {oid}: late-shipment compensation {late} fen "
                                   f"is more than the cap {cap}", {"order_id": oid}))
        given, allowed = sum(m.get(k, 0) for k in TO_BUYER_KINDS), m.get("pay", 0) + min(late, cap)
        if given > allowed:
            found.append(Violation("buyer_paid_at_most_price", f"order {oid}: the buyer got {given} fen back, more "
                                   f"than paid {m.get('pay', 0)} + late-shipment compensation {min(late, cap)}",
                                   {"order_id": oid}))
    return found


def _receivables():
    tasks = _table("execution_tasks")
    expected = {}
    for shop_id, kind, amount in db.session.execute(
            select(tasks.c.shop_id, JournalEntry.kind, sum_fen(JournalEntry.amount_fen))
            .join(tasks, tasks.c.id == JournalEntry.task_id)
            .where(JournalEntry.kind.in_(("advance", "recovery"))).group_by(tasks.c.shop_id, JournalEntry.kind)):
        expected[shop_id] = expected.get(shop_id, 0) + (amount if kind == "advance" else -amount)
    held = dict(db.session.execute(
        select(Account.shop_id, sum_fen(JournalLine.amount_fen)).join(JournalLine, JournalLine.account_id == Account.id)
        .where(Account.kind == "platform_receivable").group_by(Account.shop_id)).all())
    return [Violation("receivable_matches_advances", f"shop {shop}: platform:receivable:{shop} holds "
                      f"{held.get(shop, 0)} fen, but advances − recoveries is {expected.get(shop, 0)}",
                      {"shop_id": shop, "account": f"platform:receivable:{shop}"})
            for shop in sorted(set(expected) | set(held)) if held.get(shop, 0) != expected.get(shop, 0)]
