"""Carrying out remedies: execution tasks, each step exactly once.

Every step runs in one transaction: the case row, then the task row, are locked (always in
that order), the task's state machine (workflows/tasks.py) is fired, and the ledger
movement carries an idempotency key derived from the task and the step — so a step that
runs twice, on two workers at once, or again after a crash moves the money once."""
from datetime import datetime, timedelta

from sqlalchemy import select, update

from workflows import ActionNotAllowed
from workflows.compensation import is_about_late_shipment, late_shipment_due
from workflows.penalties import MAX_RESTRICT_DAYS, thresholds_crossed
from workflows.tasks import PHASE as TASK

from .. import admin_audit
from ..catalog.models import Product, Shop
from ..db_tx import lock, transaction
from ..errors import ActionNotAvailable, DomainError, Invalid, NotFound
from ..extensions import db
from ..jobs import enqueue, register_job
from ..orders.queries import money_for
from ..payments.services import (balance, buyer_funding_code, escrow_code, lock_accounts, receivable_code,
                                 seller_code, transfer)
from ..rules import get_rules
from ..shipping.models import Shipment
from ..timeutil import as_utc, isoformat, utcnow
from .models import ExecutionTask, Penalty
from .queries import points_in_force
from .signals import task_moved

REFUND_REMEDIES = ("full_refund", "partial_refund", "return_refund")
BUYER_FACING = ("refund", "compensation", "exchange")  # the case is resolved when these are done


def late_shipment_owed(order, now, rules):
    """Late-shipment compensation still owed on the order: 0 when it shipped on time or was paid already."""
    paid = money_for([order.id])[order.id]["late_compensation_fen"]
    return late_shipment_due(order.total_fen, order.ship_by, order.shipped_at, paid, now, rules)


def create_tasks(case, now, rules):
    """The tasks a case's remedy needs; called when the case enters execution."""
    specs = []
    if case.remedy_type in REFUND_REMEDIES and case.remedy_amount_fen:
        specs.append(("refund", case.remedy_amount_fen, {}))
    elif case.remedy_type == "compensation" and case.remedy_amount_fen:
        # late-shipment compensation (延迟发货赔付) is paid on top of the price, capped by the rules;
        # any other compensation (补偿) is a partial refund without return and counts as refunded
        owed = late_shipment_owed(case.order, now, rules) if case.order is not None and is_about_late_shipment(
            case.reason, case.complaint_type) else 0
        if owed:
            specs.append(("compensation", min(case.remedy_amount_fen, owed), {"late_shipment": True}))
        else:
            specs.append(("compensation", case.remedy_amount_fen, {}))
    elif case.remedy_type == "exchange":
        specs.append(("exchange", 0, {}))
    specs += [("penalty", 0, dict(p)) for p in (case.penalties or [])]
    tasks = [ExecutionTask(case_id=case.id, order_id=case.order_id, shop_id=case.shop_id, buyer_id=case.buyer_id,
                           kind=kind, state="pending", amount_fen=amount, detail=detail, attempts=0,
                           recovered_fen=0, created_at=now, updated_at=now)
             for kind, amount, detail in specs]
    for task in tasks:
        _set_deadline(task, rules, now)
    db.session.add_all(tasks)
    db.session.flush()
    for task in tasks:
        enqueue("run_task", task.id, now)
    return tasks


def _set_deadline(task, rules, now):
    task.due_at, task.on_timeout, task.waiting_for = TASK.deadline_for(task, rules, now)


def tasks_of(case_id):
    """The case's tasks as the database has them now (callers hold the case's row lock)."""
    return db.session.execute(select(ExecutionTask).where(ExecutionTask.case_id == case_id)
                              .order_by(ExecutionTask.id).execution_options(populate_existing=True)).scalars().all()


def open_task(case, states):
    """The case's first buyer-facing task in one of `states`, or None."""
    return next((t for t in tasks_of(case.id) if t.kind in BUYER_FACING and t.state in states), None)


def all_done(case):
    return all(t.state == "done" for t in tasks_of(case.id) if t.kind in BUYER_FACING)


# ---------------------------------------------------------------- firing a task

def fire_task(task, trigger, *, role, actor=None, data=None, now, rules):
    """Fire `trigger` on a locked task and carry out what it means, inside the caller's transaction."""
    data = data or {}
    if trigger == "advance" and not _buyer_eligible(task):
        trigger, data = "fail", {"error": "the buyer is not eligible for a platform advance"}
    if trigger == "keep" and task.state == "in_progress":
        trigger = "run"
    if trigger == "run" or (trigger == "start" and task.state == "pending"):
        if trigger == "start":
            _fire(task, "start", role, rules, data)
        outcome, error = _step(task, now, rules)
        _fire(task, outcome, "system", rules, {})
        if outcome == "fail":
            _failed(task, error, rules)
    else:
        _fire(task, trigger, role, rules, data)
        EFFECTS.get(trigger, lambda *a: None)(task, actor, data, now, rules)
        if trigger == "fail":
            _failed(task, data.get("error", "failed"), rules)
        if trigger == "retry":
            _fire(task, "start", "system", rules, {})
            outcome, error = _step(task, now, rules)
            _fire(task, outcome, "system", rules, {})
            if outcome == "fail":
                _failed(task, error, rules)
    task.updated_at = now
    _set_deadline(task, rules, now)
    db.session.flush()
    return task


def _fire(task, trigger, role, rules, data):
    try:
        TASK.fire(task, trigger, role, rules, data)
    except ActionNotAllowed as exc:
        raise ActionNotAvailable(str(exc), {"available_actions": exc.allowed}) from None


def _failed(task, error, rules):
    task.attempts += 1
    task.last_error = str(error)[:500]


def _step(task, now, rules):
    """The work of an in_progress task; returns (outcome trigger, error)."""
    try:
        with db.session.begin_nested():
            return STEPS[task.kind](task, now, rules), None
    except DomainError as exc:
        return "fail", exc.message


def _key(task, step):
    return f"task:{task.id}:{step}"


def _move(task, source, dest, amount, step, kind, now, memo):
    transfer(source, dest, amount, _key(task, step), kind=kind, order_id=task.order_id, case_id=task.case_id,
             task_id=task.id, at=now, memo=memo)


def _step_refund(task, now, rules):
    if task.order_id is not None:  # locked before the read: what it holds stays true until we take it
        lock_accounts([escrow_code(task.order_id), buyer_funding_code(task.buyer_id)])
    if task.order_id is not None and balance(escrow_code(task.order_id)) >= task.amount_fen:
        _move(task, escrow_code(task.order_id), buyer_funding_code(task.buyer_id), task.amount_fen, "refund:escrow",
              "refund", now, "refund from escrow")
        task.paid_by = "escrow"
        return "complete"
    return "wait_seller"  # the money was released to the seller: the seller pays it back


def _take_from_shop(task, amount, step, kind, dest, now, memo):
    """Take up to `amount` from the shop's balance, then its deposit; returns what was taken. The
    accounts are locked before they are read, so concurrent steps never take the same money twice."""
    lock_accounts([seller_code(task.shop_id, "balance"), seller_code(task.shop_id, "deposit"), dest])
    taken = 0
    for part in ("balance", "deposit"):
        available = max(balance(seller_code(task.shop_id, part)), 0)
        take = min(available, amount - taken)
        if take:
            _move(task, seller_code(task.shop_id, part), dest, take, f"{step}:{part}", kind, now, memo)
            taken += take
    return taken


def _step_compensation(task, now, rules):
    """Late-shipment compensation comes from the shop, on top of the price. Any other compensation is
    money back on the order: from its escrow while the escrow holds it (booked as a refund, so no
    order closes with its price left in escrow), the rest from the shop."""
    late = task.detail.get("late_shipment")
    escrow = escrow_code(task.order_id) if task.order_id is not None and not late else None
    lock_accounts([seller_code(task.shop_id, "balance"), seller_code(task.shop_id, "deposit"),
                   buyer_funding_code(task.buyer_id)] + ([escrow] if escrow else []))
    from_escrow = min(max(balance(escrow), 0), task.amount_fen) if escrow else 0
    rest = task.amount_fen - from_escrow
    available = sum(max(balance(seller_code(task.shop_id, p)), 0) for p in ("balance", "deposit"))
    if available < rest:
        raise Invalid("The shop cannot pay the compensation yet", {"shop": f"holds {available} fen"})
    if from_escrow:
        _move(task, escrow_code(task.order_id), buyer_funding_code(task.buyer_id), from_escrow,
              "compensation:escrow", "refund", now, "compensation from escrow")
    if rest:
        _take_from_shop(task, rest, "compensation", "late_compensation" if late else "compensation",
                        buyer_funding_code(task.buyer_id), now, "compensation from the shop")
    task.paid_by = "seller" if rest else "escrow"
    return "complete"


def _step_recovery(task, now, rules):
    owed = task.amount_fen - task.recovered_fen
    lock_accounts([seller_code(task.shop_id, "balance"), seller_code(task.shop_id, "deposit"), "platform:guarantee",
                   receivable_code(task.shop_id), seller_code(task.shop_id, "payable")])  # all at once, in id order
    taken = _take_from_shop(task, owed, f"recover:{task.recovered_fen}", "recovery", "platform:guarantee", now,
                            "advance recovered from the shop")
    if taken:
        transfer(receivable_code(task.shop_id), seller_code(task.shop_id, "payable"), taken,
                 _key(task, f"recover:{task.recovered_fen}:settle"), kind="receivable_settled",
                 order_id=task.order_id, case_id=task.case_id, task_id=task.id, at=now, memo="receivable settled")
    task.recovered_fen += taken
    return "complete" if task.recovered_fen == task.amount_fen else "keep"


def _step_exchange(task, now, rules):
    return "wait_shipment"


def _step_penalty(task, now, rules):
    detail, shop = task.detail, lock(Shop, task.shop_id)  # one shop's points add up one task at a time
    kind = detail.get("kind")
    penalty = Penalty(shop_id=task.shop_id, case_id=task.case_id, task_id=task.id, kind=kind, created_at=now)
    if kind == "takedown":
        listing = db.session.get(Product, detail.get("listing_id"))
        if listing is None or listing.shop_id != task.shop_id:
            raise Invalid("The listing to take down is not this shop's", {"listing_id": "unknown"})
        listing.status, penalty.listing_id = "taken_down", listing.id
    elif kind == "points":
        points = int(detail.get("points", 0))
        before = points_in_force(shop.id, now, rules)
        shop.points += points
        penalty.points = points
        db.session.add(penalty)  # before the restriction or blacklist it brings
        for step, days in thresholds_crossed(before, before + points, rules):
            _threshold(task, shop, step, days, before + points, now)
    elif kind == "restrict":
        penalty.until = now + timedelta(days=min(int(detail.get("days", 7)), MAX_RESTRICT_DAYS))
        shop.restricted_until = max(shop.restricted_until or penalty.until, penalty.until)
    elif kind == "blacklist":
        _close_shop(shop)
    else:
        raise Invalid("Unknown penalty", {"kind": kind})
    db.session.add(penalty)
    return "complete"


def _threshold(task, shop, kind, days, points, now):
    """Points over a threshold (workflows/penalties.py): the restriction or blacklist they bring, in the
    points' transaction — a penalty row naming the case that pushed the shop over, and an audit row."""
    row = Penalty(shop_id=shop.id, case_id=task.case_id, task_id=task.id, kind=kind, created_at=now)
    if kind == "restrict":
        row.until = now + timedelta(days=days)
        shop.restricted_until = max(shop.restricted_until or row.until, row.until)
    else:
        _close_shop(shop)
    db.session.add(row)
    admin_audit.record(None, f"shop.{kind}", "shop", shop.id, now=now,
                       reason=f"{points} penalty points in force (case {task.case_id})",
                       detail={"points": points, "case_id": task.case_id, "days": days,
                               "restricted_until": isoformat(shop.restricted_until),
                               "is_blacklisted": shop.is_blacklisted})


def _close_shop(shop):
    """Blacklisted: closed — no new orders, and every listing taken down (cases and money go on)."""
    shop.is_blacklisted = True
    db.session.execute(update(Product).where(Product.shop_id == shop.id, Product.status == "on_sale")
                       .values(status="taken_down"))


STEPS = {"refund": _step_refund, "compensation": _step_compensation, "recovery": _step_recovery,
         "exchange": _step_exchange, "penalty": _step_penalty}


def _pay_refund(task, actor, data, now, rules):
    # one entry, no read before it: post_entry locks the balance and refuses to overdraw it
    _move(task, seller_code(task.shop_id, "balance"), buyer_funding_code(task.buyer_id), task.amount_fen,
          "refund:seller", "seller_refund", now, "refund paid by the seller")
    task.paid_by = "seller"


def _buyer_eligible(task):
    from ..auth.models import User
    return not db.session.get(User, task.buyer_id).is_malicious_refund


def _advance(task, actor, data, now, rules):
    """先行垫付: the platform pays the buyer, books a receivable against the shop, and starts recovery."""
    lock_accounts(["platform:guarantee", buyer_funding_code(task.buyer_id), seller_code(task.shop_id, "payable"),
                   receivable_code(task.shop_id)])  # both entries' accounts at once, in id order
    _move(task, "platform:guarantee", buyer_funding_code(task.buyer_id), task.amount_fen, "refund:advance",
          "advance", now, "platform advance payment (先行垫付)")
    _move(task, seller_code(task.shop_id, "payable"), receivable_code(task.shop_id), task.amount_fen,
          "receivable", "receivable", now, "advance to be recovered from the shop")
    task.paid_by = "platform"
    recovery = ExecutionTask(case_id=task.case_id, order_id=task.order_id, shop_id=task.shop_id,
                             buyer_id=task.buyer_id, parent_id=task.id, kind="recovery", state="pending",
                             amount_fen=task.amount_fen, attempts=0, recovered_fen=0, detail={},
                             created_at=now, updated_at=now)
    _set_deadline(recovery, rules, now)
    db.session.add(recovery)
    db.session.flush()
    enqueue("run_task", recovery.id, now)


def _ship_replacement(task, actor, data, now, rules):
    db.session.add(Shipment(order_id=task.order_id, direction="replacement", carrier=data["carrier"],
                            tracking_no=data["tracking_no"], shipped_at=now))


def _confirm_replacement(task, actor, data, now, rules):
    for shipment in db.session.execute(select(Shipment).where(
            Shipment.order_id == task.order_id, Shipment.direction == "replacement",
            Shipment.status == "in_transit")).scalars():
        shipment.status, shipment.signed_at = "signed", now


EFFECTS = {"pay_refund": _pay_refund, "advance": _advance, "ship_replacement": _ship_replacement,
           "confirm_replacement": _confirm_replacement}


def run_task(task_id, now=None, *, trigger=None):
    """The job: fire the task's due step (or `trigger`) as the system, in its own transaction.

    Safe to run any number of times: a task that is not due (or already done) is left alone.
    The case follows through `task_moved` (the cases area subscribes)."""
    now, rules = as_utc(datetime.fromisoformat(now)) if isinstance(now, str) else (now or utcnow()), get_rules()
    with transaction():
        case_id = db.session.execute(select(ExecutionTask.case_id).where(ExecutionTask.id == task_id)).scalar()
        if case_id is None:
            raise NotFound("Task not found")
        _lock_case(case_id)  # locks in order: the case, then the task
        task = lock(ExecutionTask, task_id)
        trigger = trigger or ("start" if task.state == "pending" else task.on_timeout)
        if trigger is None or task.state == "done" or (
                trigger == task.on_timeout and trigger != "start" and (task.due_at is None or task.due_at > now)):
            return task  # nothing due: a duplicate delivery or an early sweep
        fire_task(task, trigger, role="system", now=now, rules=rules)
        task_moved.send(task, now=now, rules=rules)
    return task


def _lock_case(case_id):
    """SELECT … FOR UPDATE on the task's case row (the table behind ExecutionTask.case: no import of cases)."""
    cases = ExecutionTask.case.property.mapper.local_table
    db.session.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update())


register_job("run_task", run_task)
