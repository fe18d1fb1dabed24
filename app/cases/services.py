"""Every case write. `perform_action` is the one entry point for pages, the API and the
sweeper: lock the case, check the actor may fire the trigger now, run the transition,
apply its effects, link to the next phase, set the next deadline, write the audit event
and the system message — all in one transaction."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from workflows import ActionNotAllowed
from workflows import order as order_flow
from workflows.cases import PHASES, available_actions, next_phase
from workflows.compensation import is_about_late_shipment, late_shipment_compensation
from workflows.fields import REMEDIES_WITH_AMOUNT, validate
from workflows.problems import Problem

from ..ids import MAX_ID
from ..auth.models import User
from ..catalog.models import Product, ReturnAddress
from ..auth.policy import case_role, order_role, team_mediators
from ..db_tx import lock, lock_all, transaction
from ..errors import ActionNotAvailable, Conflict, Invalid, NotFound, Stale
from ..evidence.models import Evidence
from ..execution.models import ExecutionTask
from ..execution.services import BUYER_FACING, create_tasks, fire_task, late_shipment_owed, open_task, tasks_of
from ..execution.signals import task_moved
from ..extensions import db
from ..orders.models import Order
from ..orders.queries import money_for
from ..rules import get_rules
from ..shipping.models import Shipment
from ..timeutil import utcnow
from .audit import append_event, ledger_record
from .models import Case, CaseMessage
from .signals import decision_bound

AFTER_SALES_KINDS = ("refund_only", "return_refund", "exchange", "compensation")
OPEN_ORDER_STATES = ("paid", "shipped", "delivered", "completed")


# ---------------------------------------------------------------- opening a case

def open_case(order_id, *, actor, kind, reason, amount_fen, description="", item_ids=None, photos=(), now=None):
    """An after-sales request (售后申请) by the order's buyer; the case starts in negotiation.

    `item_ids` are the order items the request is about (all when None); `photos` are files already in
    the evidence store (`StoredPhoto`), recorded as the buyer's evidence in the same transaction."""
    now, rules = now or utcnow(), get_rules()
    late = kind == "compensation" and reason == "late_shipment"  # the system computes the amount
    clean, errors = validate(("description",) if late else ("amount_fen", "description"),
                             {"amount_fen": amount_fen, "description": description})
    if kind not in AFTER_SALES_KINDS:
        errors["kind"] = Problem(f"must be one of: {', '.join(AFTER_SALES_KINDS)}", "not_a_choice")
    elif reason not in rules["reasons"][kind]:
        errors["reason"] = Problem(f"must be one of: {', '.join(rules['reasons'][kind])}", "not_a_choice")
    if item_ids is not None and (not isinstance(item_ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in item_ids)):
        errors["item_ids"] = Problem("must be a list of order item ids", "not_a_choice")
    if errors:
        raise Invalid("Invalid after-sales request", errors)
    with transaction():
        order = lock(Order, order_id) if isinstance(order_id, int) else None
        if order is None or order_role(actor, order) != "buyer":
            raise NotFound("Order not found")
        options = request_options(order, rules, now, item_ids=item_ids)
        if late:
            clean["amount_fen"] = options.late_owed_fen
        _check_order_accepts_request(options, kind, reason, clean["amount_fen"], late=late,
                                     late_off=late and late_shipment_compensation(order.total_fen, rules) == 0)
        _check_case_limits(order, rules)
        case = _new_case(order=order, buyer_id=order.buyer_id, shop_id=order.shop_id, kind=kind, reason=reason,
                         phase="negotiation", state="requested", amount_fen=clean["amount_fen"],
                         description=clean.get("description", ""), item_ids=options.item_ids, now=now, rules=rules)
        payload = {"kind": kind, "reason": reason, "amount_fen": clean["amount_fen"]}
        _start(case, actor, "open", payload | ({"item_ids": options.item_ids} if options.item_ids else {}), now)
        for photo in photos:
            _record_photo(case, actor, photo, now)
    return case


def _record_photo(case, actor, photo, now):
    """A photo sent with the request: the buyer's evidence on the new case, with its audit event."""
    evidence = Evidence(case_id=case.id, uploader_id=actor.id, uploader_role="buyer", kind="photo",
                        description="", sha256=photo.sha256, size=photo.size, mime=photo.mime,
                        filename=photo.filename, thumb_sha256=photo.thumb_sha256, created_at=now)
    db.session.add(evidence)
    db.session.flush()
    append_event(case, actor=actor, role="buyer", trigger="upload_evidence", before=(case.phase, case.state),
                 payload={"evidence_id": evidence.id, "kind": "photo", "sha256": photo.sha256,
                          "size": photo.size, "mime": photo.mime}, now=now)


def file_complaint(*, actor, order_id=None, listing_id=None, type=None, description="", now=None):
    """A complaint (投诉) that starts without negotiation (API.md POST /complaints)."""
    now, rules = now or utcnow(), get_rules()
    clean, errors = validate(("type", "description"), {"type": type, "description": description})
    for name, value in (("order_id", order_id), ("listing_id", listing_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID):
            errors[name] = Problem("must be an id or null", "not_a_choice")
    if order_id is None and listing_id is None:
        errors["order_id"] = Problem("an order or a listing is required", "order_or_listing")
    if errors:
        raise Invalid("Invalid complaint", errors)
    with transaction():
        order = lock(Order, order_id) if order_id is not None else None
        if order_id is not None and (order is None or order_role(actor, order) != "buyer"):
            raise NotFound("Order not found")
        listing = db.session.get(Product, listing_id) if listing_id is not None else None
        if listing_id is not None and listing is None:
            raise NotFound("Listing not found")
        if order is not None and listing is not None and listing.shop_id != order.shop_id:
            raise Invalid("The listing is not from this order's shop",
                          {"listing_id": Problem("other shop", "listing_other_shop")})
        if actor is None or actor.role != "buyer":
            raise NotFound("Order not found")
        if order is not None and order.status not in OPEN_ORDER_STATES:  # nothing was paid: nothing to complain of
            raise Invalid("Complaints about an order need a paid order",
                          {"order_id": Problem(f"order is {order.status}", "order_not_open")})
        if order is not None:
            _check_case_limits(order, rules)
        if listing is not None:
            _check_listing_complaints(actor, listing, rules)
        case = _new_case(order=order, listing_id=listing_id, buyer_id=actor.id,
                         shop_id=order.shop_id if order else listing.shop_id, kind="complaint",
                         complaint_type=clean["type"], phase="complaint", state="awaiting_response",
                         amount_fen=0, description=clean.get("description", ""), now=now, rules=rules)
        _start(case, actor, "file", {"type": clean["type"]}, now)
    return case


def after_sales_open(order, rules, now):
    """Whether the order accepts an after-sales request at all now (paid, or completed within the window)."""
    if order.status not in OPEN_ORDER_STATES:
        return False
    return order.status != "completed" or now - order.completed_at <= timedelta(hours=rules["after_sales_window_hours"])


@dataclass(frozen=True)
class RequestOptions:
    """What an after-sales request on this order may be now: the one rule the service enforces and the
    request form offers (`kinds`: {kind: reasons allowed}; empty when no request is possible, `closed` says why)."""
    kinds: dict
    closed: Problem | None
    refundable_fen: int
    max_fen: int
    late_owed_fen: int
    window_ends_at: datetime | None
    no_reason_ends_at: datetime | None
    item_ids: list                 # the items picked ([]: the whole order)
    items_problem: Problem | None = None
    shipped: bool = False


def request_options(order, rules, now, *, item_ids=None):
    """The kinds and reasons an after-sales request on `order` may have now, and its amounts' bounds."""
    money = money_for([order.id])[order.id]
    refundable, late_owed = money["refundable_fen"], 0
    window_ends = (order.completed_at + timedelta(hours=rules["after_sales_window_hours"])
                   if order.completed_at else None)
    received = order.delivered_at or order.shipped_at
    no_reason_ends = received + timedelta(hours=rules["no_reason_return_hours"]) if received else None
    items = {item.id: item for item in order.items}
    chosen = list(dict.fromkeys(item_ids or ()))  # none picked: the whole order
    items_problem = None
    if any(i not in items for i in chosen):
        items_problem, chosen = Problem("not an item of this order", "item_not_in_order"), []
    top = min(refundable, sum(items[i].subtotal_fen for i in chosen)) if chosen else refundable
    closed = None
    if order.status not in OPEN_ORDER_STATES:
        closed = Problem(f"order is {order.status}", "order_not_open")
    elif not after_sales_open(order, rules, now):
        closed = Problem("window ended", "window_ended")
    kinds = {}
    if closed is None:
        late_owed = late_shipment_owed(order, now, rules)
        promised = all("no_reason_7d" in item.service_promises for item in order.items)
        no_reason = promised and no_reason_ends is not None and now <= no_reason_ends
        for kind in (("refund_only",) if order.status == "paid" else AFTER_SALES_KINDS):
            reasons = tuple(r for r in rules["reasons"][kind]
                            if not (r == "no_reason_7d" and not no_reason)
                            and not (kind == "compensation" and r == "late_shipment" and not late_owed))
            if reasons:
                kinds[kind] = reasons
    return RequestOptions(kinds=kinds, closed=closed, refundable_fen=refundable, max_fen=top,
                          late_owed_fen=late_owed, window_ends_at=window_ends,
                          no_reason_ends_at=no_reason_ends if closed is None else None, item_ids=chosen,
                          items_problem=items_problem, shipped=order.status != "paid")


def _check_order_accepts_request(options, kind, reason, amount_fen, *, late=False, late_off=False):
    """Raise Invalid unless `request_options` allows this request (kind, reason, amount). `late_off`: the
    rules table sets late-shipment compensation to 0 (switched off), which a refused claim is told."""
    if options.closed is not None:
        message = ("The after-sales window of this order has ended" if options.closed.code == "window_ended"
                   else "After-sales requests need a paid order")
        raise Invalid(message, {"order_id": options.closed})
    if options.items_problem is not None:
        raise Invalid("The items must be this order's", {"item_ids": options.items_problem})
    if kind not in options.kinds:
        if options.shipped:
            raise Invalid("This kind of request is not possible for this order now",
                          {"kind": Problem("not allowed for this order now", "kind_not_allowed")})
        raise Invalid("An order not yet shipped can only be refunded",
                      {"kind": Problem("refund_only before shipping", "refund_only_before_shipping")})
    if reason not in options.kinds[kind]:
        if late_off:
            problem = Problem("late-shipment compensation is switched off", "late_shipment_off")
            message = "Late-shipment compensation is switched off on this platform"
        elif late:
            problem = Problem("the order shipped on time or was compensated already", "late_not_owed")
            message = "Late-shipment compensation applies only to an order shipped after its promised time, once"
        elif reason == "no_reason_7d":
            problem = Problem("not eligible", "no_reason_not_eligible")
            message = "7-day no-reason return does not apply to this order"
        else:
            problem, message = Problem("not allowed for this order", "reason_not_allowed"), "Reason not allowed"
        raise Invalid(message, {"reason": problem})
    top = options.max_fen
    if kind != "exchange" and not late and not 0 < amount_fen <= top:
        code = "max_fen" if amount_fen > top > 0 else "range_fen"  # too much: the page says "at most ¥…"
        raise Invalid("The amount must be positive and at most what is refundable",
                      {"amount_fen": Problem(f"between 1 and {top}", code, low=1, high=top)})
    if kind == "exchange" and amount_fen > top:
        raise Invalid("The amount is more than was paid",
                      {"amount_fen": Problem(f"at most {top}", "max_fen", high=top)})


def _check_case_limits(order, rules):
    counts = db.session.execute(
        select(func.count(), func.count().filter(Case.phase != "closed")).where(Case.order_id == order.id)).one()
    if counts[1] >= rules["max_open_cases_per_order"]:
        raise Conflict("This order already has an open case",
                       {"order_id": Problem("open case exists", "open_case_exists")})
    if counts[0] >= rules["max_cases_per_order"]:
        raise Invalid("This order has reached the limit of after-sales cases",
                      {"order_id": Problem("limit reached", "case_limit")})


def _check_listing_complaints(buyer, listing, rules):
    """A buyer's open complaints about listings: few about one listing, few in all. Counted with the buyer's
    row locked, so the buyer's parallel complaints queue and each sees the others."""
    lock(User, buyer.id)
    this_listing, in_all = db.session.execute(
        select(func.count().filter(Case.listing_id == listing.id), func.count())
        .where(Case.buyer_id == buyer.id, Case.listing_id.is_not(None), Case.phase != "closed")).one()
    if this_listing >= rules["max_open_complaints_per_listing"]:
        raise Conflict("You already have an open complaint about this listing",
                       {"listing_id": Problem("open complaint exists", "listing_complaint_open")})
    top = rules["max_open_listing_complaints_per_buyer"]
    if in_all >= top:
        raise Conflict(f"You already have {top} open complaints about listings",
                       {"listing_id": Problem(f"at most {top} open", "listing_complaint_limit", max=top)})


def _new_case(*, order, now, rules, **fields):
    case = Case(order=order, created_at=now, updated_at=now, number=f"pending-{now.timestamp()}", **fields)
    if case.category is None:
        case.category = _category_of(order, fields.get("listing_id"))
    _set_deadline(case, rules, now)
    db.session.add(case)
    db.session.flush()
    case.number = f"TJ{now:%Y%m%d}-{case.id:06d}"
    if order is not None and not order.is_frozen:
        order.is_frozen, order.frozen_at = True, now
    return case


def _category_of(order, listing_id):
    """The goods' category: the order's first item, or the listing a complaint is about."""
    if order is not None and order.items:
        return order.items[0].category
    if listing_id is not None:
        listing = db.session.get(Product, listing_id)
        return listing.category if listing is not None else None
    return None


def _start(case, actor, trigger, payload, now):
    if case.description:  # what the buyer wrote is part of the record (the case history shows it)
        payload = {**payload, "description": case.description}
    event = append_event(case, actor=actor, role=actor.role, trigger=trigger, before=(None, None),
                         payload=payload, now=now)
    _system_message(case, event, now)


# ---------------------------------------------------------------- performing an action

def perform_action(case_id, trigger, *, actor, data=None, now=None, expected_version=None):
    """Fire `trigger` on the case as `actor` (a User, or None for the system).

    `expected_version` is the case version the actor saw: when the case has moved on since, the
    action is refused (Stale) instead of applying to a case the actor never saw."""
    now, rules = now or utcnow(), get_rules()
    try:
        with transaction():
            case = lock(Case, case_id) if isinstance(case_id, int) else None
            role = case_role(actor, case) if case is not None else None
            if role is None:
                raise NotFound("Case not found")
            if expected_version is not None and expected_version != case.version:
                raise Stale("The case has changed since you loaded it; review it and try again",
                            {"version": case.version, "expected_version": expected_version})
            apply_action(case, trigger, actor=actor, role=role, data=data or {}, now=now, rules=rules)
    except StaleDataError:
        raise Stale("The case was changed by someone else; review it and try again") from None
    return case


def apply_action(case, trigger, *, actor, role, data, now, rules):
    """The transition itself, inside the caller's transaction (the sweeper calls it directly)."""
    phase = PHASES.get(case.phase)
    candidates = phase.candidates(case, role, trigger) if phase else []
    if not candidates:
        raise ActionNotAvailable(f"'{trigger}' is not available to you now",
                                 {"available_actions": _names(case, role, rules)})
    _prepare(case)
    # the fields are those of the transition that applies (agree to a return names a return address)
    spec = next((c for c in candidates if c.passes(case, {"_role": role}, rules)), candidates[0])
    clean, errors = validate(spec.fields, data)
    errors.update({name: f"unknown field for '{trigger}'" for name in data if name not in spec.fields})
    if errors:
        raise Invalid(f"Invalid fields for '{trigger}'", errors)
    before = (case.phase, case.state)
    _prepare(case)
    try:
        phase.fire(case, trigger, role, rules, clean)
    except ActionNotAllowed:
        raise ActionNotAvailable(f"'{trigger}' is not available in state '{case.state}'",
                                 {"available_actions": _names(case, role, rules)}) from None
    effects = EXECUTION_EFFECTS if before[0] == "execution" else EFFECTS
    payload = {**clean, **(effects.get(trigger, _no_effect)(case, actor, clean, now, rules) or {})}
    running_due = case.due_at
    _set_deadline(case, rules, now)
    if (case.phase, case.state) == before and trigger not in ("flag_overdue", "check", "modify"):
        # a step that stays in its state keeps the running deadline (an extension adds to it)
        extra = rules["evidence_period_hours"] if trigger == "extend_evidence" else 0
        case.due_at = running_due + timedelta(hours=extra)
    while (target := next_phase(case)) is not None:
        case.phase, case.state = target
        _enter(case, now, rules)
        _set_deadline(case, rules, now)
    case.updated_at = now
    event = append_event(case, actor=actor, role=role, trigger=trigger, before=before, payload=payload, now=now)
    _system_message(case, event, now)
    db.session.flush()
    if before[0] == "resolution" and case.phase != "resolution":  # a proposal accepted, or a final ruling
        decision_bound.send(case, now=now, rules=rules)
    if before[0] == "execution" and trigger in TASK_TRIGGERS:
        after_task(case, now, rules)
    return event


def after_task(case, now, rules):
    """After a task moved: the case follows — it completes when every task is done, and its
    waiting_for shows whom the tasks wait for."""
    if case.phase != "execution":
        return
    _prepare(case)
    if case.tasks_done:
        apply_action(case, "complete", actor=None, role="system", data={}, now=now, rules=rules)
    else:
        case.waiting_for = case.task_waiting


def _names(case, role, rules):
    _prepare(case)
    return [name for name, _ in available_actions(case, role, rules)]


def _prepare(case):
    """Transient values the guards and the execution phase's waiting_for read."""
    tasks = [t for t in tasks_of(case.id) if t.kind in BUYER_FACING] if case.phase == "execution" else []
    case.task_states = {t.state for t in tasks}
    case.tasks_done = all(t.state == "done" for t in tasks)
    case.task_waiting = next((t.waiting_for for t in tasks if t.waiting_for not in (None, "system")), "system")


def _set_deadline(case, rules, now):
    if case.phase == "execution":
        _prepare(case)
    if case.phase == "closed":
        case.due_at = case.on_timeout = case.waiting_for = None
        return
    if PHASES[case.phase].is_terminal(case.state):
        return  # the hand-over to the next phase sets the deadline
    case.due_at, case.on_timeout, case.waiting_for = PHASES[case.phase].deadline_for(case, rules, now)


def _system_message(case, event, now):
    arrow = f"{event.from_phase}/{event.from_state} → " if event.from_state else ""
    db.session.add(CaseMessage(case_id=case.id, author_role="system", event=event,
                               body=f"[{event.trigger}] {arrow}{case.phase}/{case.state}", created_at=now))


# ---------------------------------------------------------------- effects of each trigger

def _no_effect(case, actor, data, now, rules):
    return None


def _refundable(case):
    return money_for([case.order_id])[case.order_id]["refundable_fen"] if case.order_id else 0


def _counter_offer(case, actor, data, now, rules):
    if not 0 < data["amount_fen"] < case.amount_fen:
        raise Invalid("A counter-offer is less than the amount asked", {"amount_fen": Problem(
            f"between 1 and {case.amount_fen - 1}", "range_fen", low=1, high=case.amount_fen - 1)})
    case.offer_fen = data["amount_fen"]


def _late_owed(case, now, rules):
    """Late-shipment compensation still owed when the case is about late shipment, else None."""
    if case.order is None or not is_about_late_shipment(case.reason, case.complaint_type):
        return None
    return late_shipment_owed(case.order, now, rules) or None


def _modify(case, actor, data, now, rules):
    late = _late_owed(case, now, rules) if case.kind == "compensation" else None
    top = late or _refundable(case)
    if not 0 < data["amount_fen"] <= top:
        raise Invalid("The amount must be positive and at most the late-shipment compensation" if late else
                      "The amount must be positive and at most what is refundable",
                      {"amount_fen": Problem(f"between 1 and {top}", "range_fen", low=1, high=top)})
    case.amount_fen, case.offer_fen, case.modify_count = data["amount_fen"], None, case.modify_count + 1


def _escalate(case, actor, data, now, rules):
    case.complaint_type = data["type"]
    if data.get("description"):
        case.description = (case.description + "\n\n" + data["description"]).strip()


def _ship(direction):
    def effect(case, actor, data, now, rules):
        db.session.add(Shipment(order_id=case.order_id, direction=direction, carrier=data["carrier"],
                                tracking_no=data["tracking_no"], shipped_at=now))
    return effect


def _signed(direction):
    def effect(case, actor, data, now, rules):
        for shipment in db.session.execute(select(Shipment).where(
                Shipment.order_id == case.order_id, Shipment.direction == direction,
                Shipment.status == "in_transit")).scalars():
            shipment.status, shipment.signed_at = "signed", now
        _agreement(case, actor, data, now, rules)
    return effect


def _agreement(case, actor, data, now, rules):
    """Entering `agreed` in negotiation fixes the remedy handed to execution."""
    if case.state != "agreed":
        return
    if case.kind == "exchange" and case.phase == "negotiation" and not getattr(case, "_replacement_failed", False):
        remedy, amount = "exchange", 0
    else:
        amount = case.offer_fen if case.offer_fen is not None else case.amount_fen
        if not amount and getattr(case, "_replacement_failed", False):
            amount = _refundable(case)  # the goods went back and no replacement came: refund them
        remedy = {"return_refund": "return_refund", "compensation": "compensation"}.get(case.kind, "partial_refund")
        if remedy == "partial_refund" and amount == _refundable(case):
            remedy = "full_refund"
    _set_remedy(case, remedy, amount, None, None, actor, final=False)


def _agree(case, actor, data, now, rules):
    """Agreeing to a return or exchange names where the goods go back: the chosen address of this shop,
    or the shop's default (the system's timeout agrees with the default)."""
    if case.state == "awaiting_return":
        chosen = data.get("return_address_id")
        if chosen is not None:
            address = db.session.get(ReturnAddress, chosen)
            if address is None or address.shop_id != case.shop_id:
                raise Invalid("The return address must be one of this shop's",
                              {"return_address_id": Problem("not this shop's address", "return_address_other_shop")})
        else:
            address = db.session.execute(select(ReturnAddress).where(ReturnAddress.shop_id == case.shop_id)
                                         .order_by(ReturnAddress.is_default.desc(), ReturnAddress.id)
                                         .limit(1)).scalar_one_or_none()
        case.return_address = address.snapshot() if address is not None else None
    _agreement(case, actor, data, now, rules)


def _fail_replacement(case, actor, data, now, rules):
    case._replacement_failed = True
    _agreement(case, actor, data, now, rules)


def _set_remedy(case, remedy, amount, findings, rule, actor, final):
    case.remedy_type, case.remedy_amount_fen = remedy, amount
    case.findings, case.rule_applied, case.remedy_final = findings, rule, final
    case.decided_by_id = actor.id if actor is not None else None


def _decide(final):
    def effect(case, actor, data, now, rules):
        remedy, refundable = data["remedy"], _refundable(case)
        if case.order_id is None and remedy != "dismiss":
            raise Invalid("A complaint about a listing has no order to refund or exchange: dismiss it, "
                          "with penalties if the shop broke the rules",
                          {"remedy": Problem("dismiss only", "dismiss_only")})
        amount = {"full_refund": refundable, "dismiss": 0, "exchange": 0}.get(remedy, data.get("amount_fen", 0))
        late = _late_owed(case, now, rules) if remedy == "compensation" else None
        if late:  # the rules' late-shipment compensation, on top of the price: never more
            amount = min(amount or late, late)
        elif remedy in REMEDIES_WITH_AMOUNT and not 0 < amount <= refundable:
            raise Invalid("The amount must be positive and at most what is refundable",
                          {"amount_fen": Problem(f"between 1 and {refundable}", "range_fen", low=1, high=refundable)})
        if data.get("buyer_malicious") and remedy == "full_refund":
            raise Invalid("A claim granted in full cannot be found malicious",
                          {"buyer_malicious": Problem("not with a full refund", "malicious_full_refund")})
        _set_remedy(case, remedy, amount, data["findings"], data["rule"], actor, final)
        # the finding stands with the decision: the buyer is flagged once it binds (decision_bound → app.credit)
        case.buyer_malicious = bool(data.get("buyer_malicious"))
        for penalty in data.get("penalties") or []:
            listing = db.session.get(Product, penalty["listing_id"]) if penalty["kind"] == "takedown" else None
            if penalty["kind"] == "takedown" and (listing is None or listing.shop_id != case.shop_id):
                raise Invalid("A listing to take down must be this shop's",
                              {"penalties": Problem(f"listing {penalty['listing_id']} is not this shop's",
                                                    "listing_not_of_shop")})
        case.penalties = data.get("penalties") or []
        case.buyer_accepted_at = case.seller_accepted_at = None
        return {"amount_fen": amount}  # the audit event records the amount decided (a full refund's too)
    return effect


def _assign(case, actor, data, now, rules):
    case.mediator_id = actor.id


def _auto_assign(case, actor, data, now, rules):
    """The least busy active mediator: of the teams covering the case's category when any of their members
    is active, else of all mediators."""
    load = (select(User.id, func.count(Case.id).label("n"))
            .outerjoin(Case, (Case.mediator_id == User.id) & (Case.phase != "closed"))
            .where(User.role == "mediator", User.is_active_flag.is_(True))
            .group_by(User.id).order_by("n", User.id).limit(1))
    team = team_mediators(case.category)
    row = db.session.execute(load.where(User.id.in_(team))).first() if team else None
    row = row or db.session.execute(load).first()
    if row is None:
        raise Invalid("No mediator is available", {"mediator": "none active"})
    case.mediator_id = row.id
    return {"mediator_id": row.id}


def _reassign(case, actor, data, now, rules):
    """The case of a deactivated mediator, in the same state, to the least busy active one (as _auto_assign)."""
    before = case.mediator_id
    _auto_assign(case, actor, data, now, rules)
    return {"from_mediator_id": before, "mediator_id": case.mediator_id}


# the phases in which a case is in its mediator's hands (reassigned when the mediator is deactivated)
MEDIATOR_PHASES = ("mediation", "resolution")


def reassign_cases_of(mediator_id, *, actor, now, rules):
    """Inside the caller's transaction, once the mediator is no longer active: each of their open cases in
    mediation or resolution goes to another mediator (`reassign`: an event and a system message each).
    Returns the ids of the cases handed over; raises Invalid when no active mediator can take them."""
    ids = db.session.execute(select(Case.id).where(
        Case.mediator_id == mediator_id, Case.phase.in_(MEDIATOR_PHASES)).order_by(Case.id)).scalars().all()
    for case in lock_all(Case, ids):
        apply_action(case, "reassign", actor=actor, role="system", data={}, now=now, rules=rules)
    return list(ids)


def _request_evidence(case, actor, data, now, rules):
    case.evidence_party = data["party"]


def _extend_evidence(case, actor, data, now, rules):
    case.evidence_extended = True


def _accept_proposal(case, actor, data, now, rules):
    if actor.role == "buyer":
        case.buyer_accepted_at = now
    else:
        case.seller_accepted_at = now


def _accept_by_silence(case, actor, data, now, rules):
    silent = [p for p in ("buyer", "seller") if getattr(case, f"{p}_accepted_at") is None]
    for party in silent:
        setattr(case, f"{party}_accepted_at", now)
    return {"accepted_by_silence": silent}


def _flag_overdue(case, actor, data, now, rules):
    case.overdue_count += 1
    return {"overdue_count": case.overdue_count}


def _delegate(trigger, state):
    """A case action in execution is carried out by the task waiting for it."""
    def effect(case, actor, data, now, rules):
        task = lock(ExecutionTask, open_task(case, (state,)).id)
        fire_task(task, trigger, role=actor.role, actor=actor, data=data, now=now, rules=rules)
        return {"task_id": task.id}
    return effect


def _enter(case, now, rules):
    """Side effects of entering a phase's first state (or closing)."""
    if case.phase == "execution":
        create_tasks(case, now, rules)
    if case.phase == "closed":
        case.closed_at = now
        _release_order(case, now)


def _release_order(case, now):
    order = case.order
    if order is None:
        return
    money = money_for([order.id])[order.id]
    if money["paid_fen"] and money["refundable_fen"] == 0 and order.status != "closed":
        order_flow.PHASE.fire(order, "refund_close", "system", rules=get_rules())
        order.closed_at, order.auto_confirm_at = now, None
    if order.is_frozen:
        if order.auto_confirm_at is not None and order.frozen_at is not None:
            order.auto_confirm_at += now - order.frozen_at
        order.is_frozen, order.frozen_at = False, None


EFFECTS = {
    "agree": _agree, "accept_offer": _agreement, "confirm_replacement": _signed("replacement"),
    "confirm_received": _signed("return"), "fail_replacement": _fail_replacement,
    "counter_offer": _counter_offer, "modify": _modify, "escalate": _escalate,
    "ship_return": _ship("return"), "ship_replacement": _ship("replacement"),
    "assign": _assign, "auto_assign": _auto_assign, "reassign": _reassign, "request_evidence": _request_evidence,
    "extend_evidence": _extend_evidence, "propose": _decide(final=False), "rule": _decide(final=True),
    "accept_proposal": _accept_proposal, "accept_by_silence": _accept_by_silence, "flag_overdue": _flag_overdue,
}
# in the execution phase these actions are carried out by the task waiting for them
TASK_TRIGGERS = {"pay_refund": "awaiting_seller", "ship_replacement": "awaiting_shipment",
                 "confirm_replacement": "in_transit"}
EXECUTION_EFFECTS = {trigger: _delegate(trigger, state) for trigger, state in TASK_TRIGGERS.items()}
# completing records (a digest of) the case's ledger entries in its event: `flask audit verify` checks them
EXECUTION_EFFECTS["complete"] = lambda case, *_: {"ledger": ledger_record(case.id)}


@task_moved.connect
def _case_follows_task(task, *, now, rules):
    """A task moved on its own (its job or the sweeper ran it): the case, locked first by run_task, follows."""
    after_task(lock(Case, task.case_id), now, rules)
