"""The only writer of the ledger: `post_entry` writes one balanced entry or nothing."""
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import Invalid
from ..extensions import db
from ..timeutil import utcnow
from .models import NON_NEGATIVE_KINDS, Account, JournalEntry, JournalLine, sum_fen


def escrow_code(order_id):
    return f"escrow:{order_id}"


def buyer_funding_code(user_id):
    return f"buyer:{user_id}:funding"


def seller_code(shop_id, part):  # part: balance / deposit / funding
    return f"seller:{shop_id}:{part}"


def receivable_code(shop_id):
    return f"platform:receivable:{shop_id}"


def _account_attrs(code):
    """kind and owner columns, derived from the account code."""
    parts = code.split(":")
    if parts[0] == "escrow":
        return {"kind": "escrow", "order_id": int(parts[1])}
    if parts[0] == "buyer":
        return {"kind": "buyer_funding", "user_id": int(parts[1])}
    if parts[0] == "seller":
        return {"kind": f"seller_{parts[2]}", "shop_id": int(parts[1])}
    if parts[:2] == ["platform", "receivable"]:
        return {"kind": "platform_receivable", "shop_id": int(parts[2])}
    if parts[0] == "platform" and len(parts) == 2:
        return {"kind": f"platform_{parts[1]}"}
    raise ValueError(f"unknown account code {code!r}")


def ensure_account(code):
    account = db.session.execute(select(Account).filter_by(code=code)).scalar_one_or_none()
    if account is None:
        account = Account(code=code, **_account_attrs(code))
        try:
            with db.session.begin_nested():
                db.session.add(account)
        except IntegrityError:  # created by a concurrent transaction, or a bad owner id
            account = db.session.execute(select(Account).filter_by(code=code)).scalar_one_or_none()
            if account is None:
                raise

    return account


def balance(code):
    return db.session.execute(
        select(sum_fen(JournalLine.amount_fen))
        .join(Account, Account.id == JournalLine.account_id).where(Account.code == code)
    ).scalar_one()


def post_entry(lines, idempotency_key, *, kind, order_id=None, case_id=None, task_id=None, memo="", at=None):
    """Write one journal entry from [(account_code, signed amount_fen)].

    The lines must sum to zero. A repeat with the same idempotency key is a no-op that
    returns the first entry. Raises Invalid if an escrow, seller or guarantee account
    would go negative (the caller's transaction then rolls back)."""
    existing = db.session.execute(
        select(JournalEntry).filter_by(idempotency_key=idempotency_key)).scalar_one_or_none()
    if existing is not None:
        return existing
    lines = [(code, int(amount)) for code, amount in lines if amount]
    if not lines or sum(amount for _, amount in lines) != 0:
        raise Invalid("Journal entry does not balance", {"lines": lines})
    entry = JournalEntry(idempotency_key=idempotency_key, kind=kind, order_id=order_id, case_id=case_id,
                         task_id=task_id, memo=memo,
                         created_at=at or utcnow(),
                         amount_fen=sum(amount for _, amount in lines if amount > 0))
    accounts = {code: ensure_account(code) for code, _ in lines}
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
            db.session.add_all(JournalLine(entry_id=entry.id, account_id=accounts[code].id, amount_fen=amount)
                               for code, amount in lines)
            db.session.flush()
    except IntegrityError:  # the same key won in a concurrent transaction
        return db.session.execute(select(JournalEntry).filter_by(idempotency_key=idempotency_key)).scalar_one()
    guarded = [a.id for a in accounts.values() if a.kind in NON_NEGATIVE_KINDS]
    if guarded:
        negative = db.session.execute(
            select(Account.code).join(JournalLine, JournalLine.account_id == Account.id)
            .where(Account.id.in_(guarded)).group_by(Account.code)
            .having(func.sum(JournalLine.amount_fen) < 0)).scalars().all()
        if negative:
            raise Invalid("Insufficient funds", {"accounts": negative})
    return entry


def transfer(source, dest, amount_fen, idempotency_key, **kw):
    return post_entry([(source, -amount_fen), (dest, amount_fen)], idempotency_key, **kw)
