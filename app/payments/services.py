"""The only writer of the ledger: `post_entry` writes one balanced entry or nothing."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflows.fields import MAX_FEN

from ..db_tx import lock_all
from ..errors import Conflict, Invalid
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


def lock_accounts(codes):
    """{code: Account} for `codes`, created when new and locked in id order (SELECT … FOR UPDATE on
    PostgreSQL) until the transaction ends: read a balance after this and it stays true until you
    spend it. Lock every account a step touches in one call, before its first read."""
    accounts = {code: ensure_account(code) for code in sorted(set(codes))}
    lock_all(Account, [a.id for a in accounts.values()])
    return accounts


def _is_fen(amount):
    return type(amount) is int and -MAX_FEN <= amount <= MAX_FEN  # not bool, float, Decimal or str


def _entry_terms(entry):
    lines = sorted([line.account.code, line.amount_fen] for line in entry.lines)
    return {"kind": entry.kind, "order_id": entry.order_id, "case_id": entry.case_id, "task_id": entry.task_id,
            "lines": lines}


def _repeat(entry, requested):
    """A repeated key: the first entry if it is the same movement, else Conflict (as Stripe's
    idempotency mismatch) — a key names one movement, never two."""
    existing = _entry_terms(entry)
    if existing != requested:
        raise Conflict(f"Idempotency key {entry.idempotency_key!r} was used for another movement",
                       {"idempotency_key": entry.idempotency_key, "entry_id": entry.id,
                        "existing": existing, "requested": requested})
    return entry


def post_entry(lines, idempotency_key, *, kind, order_id=None, case_id=None, task_id=None, memo="", at=None):
    """Write one journal entry from [(account_code, signed amount_fen)].

    Amounts are ints (fen); the lines must sum to zero. A repeat of the idempotency key with the same
    movement (lines in any order, kind, order, case, task) returns the first entry; with another one it
    raises Conflict. The accounts are locked in id order before a guarded account (escrow, seller
    balance or deposit, guarantee) is checked: Invalid "Insufficient funds" if one would go below zero,
    and nothing is written."""
    bad = [repr(amount) for _, amount in lines if not _is_fen(amount)]
    if bad:
        raise Invalid("Amounts must be integers in fen", {"amounts": bad})
    lines = [(code, amount) for code, amount in lines if amount]
    if not lines or sum(amount for _, amount in lines) != 0:
        raise Invalid("Journal entry does not balance", {"lines": lines})
    requested = {"kind": kind, "order_id": order_id, "case_id": case_id, "task_id": task_id,
                 "lines": sorted([code, amount] for code, amount in lines)}
    by_key = select(JournalEntry).filter_by(idempotency_key=idempotency_key)
    existing = db.session.execute(by_key).scalar_one_or_none()
    if existing is not None:
        return _repeat(existing, requested)
    accounts = lock_accounts(code for code, _ in lines)
    change = {}
    for code, amount in lines:
        change[accounts[code].id] = change.get(accounts[code].id, 0) + amount
    guarded = [a.id for a in accounts.values() if a.kind in NON_NEGATIVE_KINDS and change[a.id] < 0]
    held = dict(db.session.execute(
        select(JournalLine.account_id, sum_fen(JournalLine.amount_fen))
        .where(JournalLine.account_id.in_(guarded)).group_by(JournalLine.account_id)).all()) if guarded else {}
    short = sorted(code for code, a in accounts.items() if a.id in guarded and held.get(a.id, 0) + change[a.id] < 0)
    if short:
        raise Invalid("Insufficient funds", {"accounts": short})
    entry = JournalEntry(idempotency_key=idempotency_key, kind=kind, order_id=order_id, case_id=case_id,
                         task_id=task_id, memo=memo, created_at=at or utcnow(),
                         amount_fen=sum(amount for _, amount in lines if amount > 0))
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
            db.session.add_all(JournalLine(entry_id=entry.id, account_id=accounts[code].id, amount_fen=amount)
                               for code, amount in lines)
            db.session.flush()
    except IntegrityError:  # the same key won in a concurrent transaction
        return _repeat(db.session.execute(by_key).scalar_one(), requested)
    return entry


def transfer(source, dest, amount_fen, idempotency_key, **kw):
    return post_entry([(source, -amount_fen), (dest, amount_fen)], idempotency_key, **kw)
