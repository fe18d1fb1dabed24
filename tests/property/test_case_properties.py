"""Random sequences of case actions by random actors — the buyer, the seller, two mediators,
an unrelated buyer and seller, the system — interleaved with the deadline sweeper on a
clock that moves forward, over cases opened on real orders. After every step:

- a closed case stays closed and never changes again;
- an open case always has a deadline (due_at, on_timeout) and someone it waits for;
- money stays sound: every invariant of `flask payments verify` (entries balance, accounts sum
  to zero, guarded accounts ≥ 0, escrow = paid − refunded − released, closed orders hold nothing
  in escrow, money to a buyer ≤ paid + the capped late-shipment compensation, receivables =
  advances − recoveries), and what an order shows as refunded is exactly what went back;
- every case's audit chain verifies, and each event has its system message;
- an order is frozen exactly while it has an open case (and never has two);
- a case in execution follows its execution tasks; a resolved case's tasks are done;
- after a sweep nothing is overdue, and each overdue case's next event is its timeout;
- a rejected action (404/409/422) changed nothing.
Runs on SQLite and on PostgreSQL."""
from collections import Counter
from datetime import timedelta

import pytest

from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule,
                                 run_state_machine_as_test)
from sqlalchemy import func, select

from app.auth.models import User
from app.cases.audit import check_anchor_log, check_case, verify_chain
from app.cases.models import Case, CaseEvent, CaseMessage
from app.cases.queries import actions_for
from app.cases.services import file_complaint, open_case, perform_action
from app.catalog.models import Product
from app.catalog.queries import shop_standing
from app.db_tx import transaction
from app.deadlines.services import sweep
from app.errors import ActionNotAvailable, Conflict, Invalid, NotFound, ShopNotSelling
from app.execution.models import ExecutionTask
from app.execution.services import BUYER_FACING
from app.extensions import db
from app.orders.models import Order
from app.orders.queries import money_for
from app.orders.services import perform_order_action
from app.payments.models import Account, JournalEntry, JournalLine
from app.payments.services import transfer
from app.timeutil import utcnow
from workflows.cases import PHASES
from workflows.fields import CARRIERS
from workflows.rules import COMPLAINT_TYPES, DEFAULTS, REMEDIES

from ..factories import make_order, make_product, make_user
from ..readers import assert_money_ok
from .test_ledger_properties import _clean

REJECTED = (NotFound, ActionNotAvailable, Invalid, Conflict)
TRIGGERS = sorted({tr.trigger for phase in PHASES.values() for tr in phase.spec.transitions}) + ["open", "nonsense"]
ACTORS = ("buyer", "seller", "mediator", "mediator2", "stranger", "other_seller", "system")
KINDS = tuple(DEFAULTS["reasons"])
ALL_REASONS = sorted({r for reasons in DEFAULTS["reasons"].values() for r in reasons})
TEXTS = ("商品有明显划痕", "已提供聊天记录与发货照片", "描述不符 · 部分退款", "  ", "")

FIELD_VALUES = {
    "amount_fen": st.one_of(st.integers(-10, 60_000), st.sampled_from([0, 1, True, "100", None])),
    "reason": st.sampled_from(TEXTS),
    "note": st.sampled_from(TEXTS),
    "description": st.sampled_from(TEXTS),
    "type": st.sampled_from(COMPLAINT_TYPES + ("bogus",)),
    "remedy": st.sampled_from(REMEDIES + ("bogus",)),
    "party": st.sampled_from(("buyer", "seller", "both", "mediator")),
    "carrier": st.sampled_from(CARRIERS + ("ups",)),
    "tracking_no": st.sampled_from(("SF1234567890", "YT9", "", "x" * 65)),
    "findings": st.sampled_from(TEXTS),
    "rule": st.sampled_from(TEXTS),
    "statement": st.sampled_from(TEXTS),
    "penalties": st.lists(st.sampled_from([{"kind": "points", "points": 3}, {"kind": "restrict", "days": 7},
                                           {"kind": "blacklist"}, {"kind": "points", "points": 0}, "takedown"]),
                          max_size=2),
    "return_address_id": st.sampled_from((None, 1, 2, 10**6)),  # a shop's, another shop's or none: the service decides
    "buyer_malicious": st.sampled_from((True, False, None, "yes")),  # the finding flags the buyer once it binds
}
PAID_BACK = ("refund", "seller_refund", "advance", "compensation")  # ledger kinds that count as refunded
TO_BUYER = PAID_BACK + ("late_compensation",)  # capped by the rules: checked by verify_money
PENALTIES = [{"kind": "points", "points": 2}, {"kind": "restrict", "days": 3}, {"kind": "blacklist"}]
RANDOM_DATA = st.fixed_dictionaries({}, optional=FIELD_VALUES)
SEEN = Counter()  # what the sequences reached, printed at the end (pytest -s, as `make soak` runs)


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _row(case):
    return {column.key: getattr(case, column.key) for column in Case.__mapper__.column_attrs}


class CaseMachine(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self):
        super().__init__()
        _clean()
        self.now = utcnow().replace(microsecond=0)
        roles = {"buyer": "buyer", "seller": "seller", "mediator": "mediator", "mediator2": "mediator",
                 "stranger": "buyer", "other_seller": "seller"}
        self.ids = {name: make_user(role, username=name).id for name, role in roles.items()}
        with transaction():
            transfer("platform:capital", "platform:guarantee", 10**9, "fund-guarantee", kind="fund")
        self.closed = {}  # case id -> (row, events, messages) when first seen closed
        self.order_ids = []

    # ------------------------------------------------------------------ helpers

    def actor(self, name):
        return None if name == "system" else db.session.get(User, self.ids[name])

    def snapshot(self, case_id):
        db.session.expire_all()
        case = db.session.get(Case, case_id) if case_id is not None else None
        per_case = None if case is None else (case.phase, case.state, case.version, case.event_count,
                                              _count(CaseMessage, CaseMessage.case_id == case_id))
        return (per_case, _count(Case), _count(CaseEvent), _count(CaseMessage), _count(JournalEntry),
                db.session.execute(select(Order.id, Order.status, Order.is_frozen).order_by(Order.id)).all(),
                db.session.execute(select(ExecutionTask.id, ExecutionTask.state, ExecutionTask.version)
                                   .order_by(ExecutionTask.id)).all())

    def attempt(self, case_id, call):
        """Run `call`; if the service rejects it, nothing at all may have changed."""
        before = self.snapshot(case_id)
        try:
            return call()
        except REJECTED as exc:
            assert self.snapshot(case_id) == before, f"rejected {exc!r} but something changed"
            return None
        finally:
            db.session.expire_all()

    # ------------------------------------------------------------------ orders and cases

    @initialize(target=cases, specs=st.lists(st.tuples(
        st.sampled_from(["paid", "shipped", "delivered", "completed"]), st.sampled_from(KINDS + ("complaint",)),
        st.integers(1, 20_000), st.booleans(), st.data()), min_size=1, max_size=3))
    def a_few_cases_on_real_orders(self, specs):
        ids = []
        for state, kind, price, late, data in specs:
            order_id = self._order(state, price, 1, late)
            if kind == "complaint":
                type = data.draw(st.sampled_from(COMPLAINT_TYPES), label="type")
                case = file_complaint(actor=self.actor("buyer"), order_id=order_id, type=type, now=self.now)
            else:
                kind = "refund_only" if state == "paid" else kind
                # late-shipment compensation is refused for an order that shipped on time
                reasons = [r for r in DEFAULTS["reasons"][kind] if late or (kind, r) != ("compensation", "late_shipment")]
                reason = data.draw(st.just("late_shipment") if late and kind == "compensation" else
                                   st.sampled_from(reasons), label="reason")
                amount = data.draw(st.integers(0 if kind == "exchange" else 1, price), label="amount_fen")
                case = open_case(order_id, actor=self.actor("buyer"), kind=kind, reason=reason, amount_fen=amount,
                                 now=self.now)
            ids.append(case.id)
        return multiple(*ids)

    @rule(amount=st.sampled_from([500, 5_000, 50_000]))
    def shop_tops_up_its_deposit(self, amount):
        """The shop pays into its deposit: compensations and advance recoveries can be taken from it."""
        shop_id = db.session.get(User, self.ids["seller"]).shop_id
        with transaction():
            transfer(f"seller:{shop_id}:funding", f"seller:{shop_id}:deposit", amount,
                     f"deposit:{shop_id}:{self.now.isoformat()}:{amount}", kind="deposit")

    @rule(state=st.sampled_from(["paid", "shipped", "delivered", "completed"]), price=st.integers(1, 20_000),
          quantity=st.integers(1, 2), new=st.integers(0, 3), data=st.data(),
          trigger=st.sampled_from(["ship", "deliver", "confirm_receipt", "close"]),
          who=st.sampled_from(["buyer", "seller", "system"]), late=st.booleans())
    def order(self, state, price, quantity, new, data, trigger, who, late):
        """Now and then a new order (in a random state, shipped late or in time); else an order action
        by a random party."""
        if not new:
            if shop_standing(self.actor("seller").shop, self.now) != "good":
                with pytest.raises(ShopNotSelling):  # a penalty restricted or closed the shop: no new order
                    self._order(state, price, quantity, late)
                return
            self._order(state, price, quantity, late)
            return
        order_id = data.draw(st.sampled_from(self.order_ids), label="order")
        fields = {"carrier": "sf", "tracking_no": "SF1"} if trigger == "ship" else None
        self.attempt(None, lambda: perform_order_action(order_id, trigger, actor=self.actor(who), data=fields,
                                                        now=self.now))

    def _order(self, state, price, quantity, late=False):
        """An order; a late one was paid 60 hours ago, so it ships (or is still unshipped) past its promise."""
        order, _, _ = make_order(self.actor("buyer"), self.actor("seller"), state=state, price_fen=price,
                                 quantity=quantity, now=self.now, paid_at=self.now - timedelta(hours=60) if late else None)
        self.order_ids.append(order.id)
        return order.id

    @rule(target=cases, kind=st.sampled_from(KINDS + KINDS + ("complaint",)), data=st.data(),
          who=st.sampled_from(["buyer", "buyer", "buyer", "stranger"]))
    def open(self, kind, data, who):
        """An after-sales request on an order (random kind, reason, amount), or a complaint on the
        order or on one of the shop's listings."""
        # any order; or one without an open case; or one whose earlier case is over (a second request)
        free = db.session.execute(select(Order.id).where(Order.id.in_(self.order_ids), Order.is_frozen.is_(False))
                                  .order_by(Order.id)).scalars().all()
        again = db.session.execute(select(Case.order_id).where(Case.order_id.in_(free), Case.phase == "closed")
                                   .distinct().order_by(Case.order_id)).scalars().all()
        orders = st.one_of([st.sampled_from(ids) for ids in (self.order_ids, free, again) if ids])
        actor, order_id = self.actor(who), data.draw(orders, label="order")
        if kind == "complaint":
            type = data.draw(st.sampled_from(COMPLAINT_TYPES), label="type")
            listing_id = None
            if data.draw(st.booleans(), label="on_listing"):
                listing_id, order_id = make_product(db.session.get(User, self.ids["seller"]).shop).id, None
            case = self.attempt(None, lambda: file_complaint(actor=actor, order_id=order_id, listing_id=listing_id,
                                                             type=type, now=self.now))
        else:
            reason = data.draw(st.sampled_from(DEFAULTS["reasons"][kind]) | st.sampled_from(ALL_REASONS),
                               label="reason")
            order = db.session.get(Order, order_id)
            if order.status == "paid" and data.draw(st.integers(0, 3), label="kind allowed"):
                kind = "refund_only"  # the only kind before shipping (other kinds: rejected)
            left = money_for([order_id])[order_id]["refundable_fen"]
            amount = data.draw(st.sampled_from([left, 1, left // 2, left + 1, 0]) | st.integers(0, left + 1)
                               | st.integers(0, 50_000), label="amount_fen")
            case = self.attempt(None, lambda: open_case(order_id, actor=actor, kind=kind, reason=reason,
                                                        amount_fen=amount, description="随机", now=self.now))
        return multiple() if case is None else case.id

    # ------------------------------------------------------------------ case actions

    @rule(case_id=cases, trigger=st.sampled_from(TRIGGERS), who=st.sampled_from(ACTORS), data=RANDOM_DATA)
    def act(self, case_id, trigger, who, data):
        """Any trigger of any phase, by anyone (the system too), with random, often wrong, fields."""
        self.attempt(case_id, lambda: perform_action(case_id, trigger, actor=self.actor(who), data=data,
                                                     now=self.now))

    @rule(steps=st.integers(1, 8), data=st.data())
    def act_offered(self, steps, data):
        """A few of the actions the parties are offered on one open case, with plausible fields: drives
        cases forward (deep into mediation, resolution and execution within the step budget)."""
        open_ids = db.session.execute(select(Case.id).where(Case.phase != "closed").order_by(Case.id)).scalars().all()
        if open_ids:
            case_id = data.draw(st.sampled_from(open_ids), label="case")
            for _ in range(steps):
                if not self._act_offered(case_id, data):
                    return

    def _act_offered(self, case_id, data):
        case = db.session.get(Case, case_id)
        offered = [(who, trigger, fields) for who in ACTORS[:-1]
                   for trigger, fields in actions_for(case, self.actor(who))]
        if len(offered) > 1 and not data.draw(st.integers(0, 4), label="may withdraw"):
            offered = [action for action in offered if action[1] != "withdraw"]  # else cases end too soon
        if not offered:
            return False
        who, trigger, fields = data.draw(st.sampled_from(offered), label="action")
        refundable = money_for([case.order_id])[case.order_id]["refundable_fen"] if case.order_id else 0
        amounts = [1, case.amount_fen - 1, case.amount_fen, refundable, refundable // 2]
        values = dict(FIELD_VALUES, amount_fen=st.sampled_from(amounts) | st.integers(1, max(refundable, 1)),
                      type=st.sampled_from(COMPLAINT_TYPES), remedy=st.sampled_from(REMEDIES),
                      party=st.sampled_from(("buyer", "seller", "both")), carrier=st.sampled_from(CARRIERS),
                      tracking_no=st.just("SF1234567890"))
        values.update({name: st.sampled_from(TEXTS[:3]) for name in ("reason", "findings", "rule", "statement")})
        listings = db.session.execute(select(Product.id).where(Product.shop_id == case.shop_id)
                                      .order_by(Product.id)).scalars().all()
        values["penalties"] = st.lists(st.sampled_from(PENALTIES + [{"kind": "takedown", "listing_id": i}
                                                                    for i in listings[-3:]]), max_size=2)
        fields_data = data.draw(st.fixed_dictionaries({name: values[name] for name in fields}), label="fields")
        self.attempt(case_id, lambda: perform_action(case_id, trigger, actor=self.actor(who), data=fields_data,
                                                     now=self.now))
        return True

    @rule(hours=st.sampled_from([0, 1, 2, 12, 25, 49, 73]) | st.sampled_from([121, 169, 241]) | st.integers(0, 400),
          batch_size=st.integers(1, 5))
    def run_sweeper(self, hours, batch_size):
        """The clock moves on and the sweeper fires every deadline that passed, as the system: each
        overdue case's next event is its timeout, and afterwards nothing is overdue any more."""
        self.now += timedelta(hours=hours)
        due = {c.id: (c.on_timeout, c.event_count) for c in db.session.execute(
            select(Case).where(Case.phase != "closed", Case.due_at <= self.now)).scalars()}
        result = sweep(now=self.now, batch_size=batch_size)
        db.session.expire_all()
        assert result.failed == 0, result.errors
        assert result.fired >= len(due)
        for case_id, (trigger, seq) in due.items():
            first = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                               CaseEvent.seq == seq + 1)).scalar_one()
            assert (first.actor_role, first.trigger) == ("system", trigger), case_id
        overdue = db.session.execute(select(Case.number, Case.phase, Case.state, Case.due_at).where(
            Case.phase != "closed", Case.due_at <= self.now)).all()
        assert overdue == [], overdue
        overdue = db.session.execute(select(ExecutionTask.id, ExecutionTask.kind, ExecutionTask.state).where(
            ExecutionTask.state != "done", ExecutionTask.due_at <= self.now)).all()
        assert overdue == [], overdue

    # ------------------------------------------------------------------ invariants

    @invariant()
    def closed_cases_stay_closed_and_unchanged(self):
        db.session.expire_all()
        for case in db.session.execute(select(Case).where(Case.phase == "closed")).scalars():
            now = (_row(case), _count(CaseEvent, CaseEvent.case_id == case.id),
                   _count(CaseMessage, CaseMessage.case_id == case.id))
            assert case.state in ("resolved", "withdrawn", "expired", "dismissed")
            assert self.closed.setdefault(case.id, now) == now, f"closed case {case.number} changed"
        for case_id in self.closed:
            assert db.session.get(Case, case_id).phase == "closed"

    @invariant()
    def open_cases_have_a_deadline_and_a_party(self):
        for case in db.session.execute(select(Case).where(Case.phase != "closed")).scalars():
            assert case.due_at is not None and case.on_timeout and case.waiting_for, (case.phase, case.state)
            assert case.waiting_for in ("buyer", "seller", "mediator", "system")
            assert not PHASES[case.phase].is_terminal(case.state), (case.phase, case.state)

    @invariant()
    def money_stays_sound(self):
        assert_money_ok()
        ids = db.session.execute(select(Order.id)).scalars().all()
        # money paid back to the buyer of an order: refunds (from escrow, paid by the seller, advanced
        # by the platform) and compensations (补偿, "a partial refund without return", DOMAIN.md);
        # only a late-shipment compensation (延迟发货赔付) is paid on top of the price
        back = {}
        for oid, kind, amount in db.session.execute(
                select(JournalEntry.order_id, JournalEntry.kind, func.sum(JournalLine.amount_fen))
                .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
                .join(Account, Account.id == JournalLine.account_id)
                .where(Account.kind == "buyer_funding", JournalLine.amount_fen > 0, JournalEntry.order_id.isnot(None))
                .group_by(JournalEntry.order_id, JournalEntry.kind)):
            assert kind in TO_BUYER, f"order {oid}: {amount} to the buyer as {kind!r}"
            SEEN[f"steps with money to a buyer as {kind}"] += 1
            back[oid] = back.get(oid, 0) + (int(amount) if kind in PAID_BACK else 0)
        for oid, money in money_for(ids).items():
            # the order shows as refunded exactly what went back, and offers no more than is left
            assert money["refunded_fen"] == back.get(oid, 0), f"order {oid}: paid back {back.get(oid)}, shows {money}"
            assert money["refundable_fen"] == money["paid_fen"] - money["refunded_fen"], (oid, money)

    @invariant()
    def execution_follows_its_tasks(self):
        """A case in execution has tasks and waits for whom they wait for; a case resolved through
        execution has every buyer-facing task done; a paid refund says who paid it."""
        for case in db.session.execute(select(Case)).scalars():
            tasks = db.session.execute(select(ExecutionTask).where(ExecutionTask.case_id == case.id)
                                       .order_by(ExecutionTask.id)).scalars().all()
            facing = [t for t in tasks if t.kind in BUYER_FACING]
            if case.phase == "execution":
                assert tasks and case.state == "executing", (case.number, case.state, tasks)
                waiting = next((t.waiting_for for t in facing if t.waiting_for not in (None, "system")), "system")
                assert case.waiting_for == waiting, (case.number, case.waiting_for, [(t.kind, t.state) for t in facing])
            if case.phase == "closed" and tasks:
                ended = "dismissed" if case.remedy_type == "dismiss" else "resolved"  # dismissal with penalties
                assert case.state == ended and all(t.state == "done" for t in facing), (
                    case.number, case.state, [(t.kind, t.state) for t in facing])
            for task in tasks:
                assert task.state == "done" or task.due_at is not None or task.state == "failed", (task.id, task.state)
                if task.kind == "refund" and task.state == "done":
                    assert task.paid_by in ("escrow", "seller", "platform"), (task.id, task.paid_by)

    @invariant()
    def audit_chains_verify(self):
        for case in db.session.execute(select(Case)).scalars():
            assert verify_chain(case) == (True, case.event_count), case.number
            assert check_case(case).problems == (), case.number  # anchors, case row and ledger agree too
            assert _count(CaseMessage, CaseMessage.case_id == case.id, CaseMessage.author_role == "system",
                          CaseMessage.event_id.isnot(None)) == case.event_count
        assert check_anchor_log()[0] == []

    @invariant()
    def an_order_is_frozen_exactly_while_it_has_an_open_case(self):
        open_cases = dict(db.session.execute(
            select(Case.order_id, func.count()).where(Case.phase != "closed", Case.order_id.isnot(None))
            .group_by(Case.order_id)).all())
        for order in db.session.execute(select(Order)).scalars():
            assert open_cases.get(order.id, 0) <= 1, order.id
            assert order.is_frozen == (order.id in open_cases), (order.id, order.status, order.is_frozen)


def test_case_invariants_hold_under_random_actions_and_sweeps(ctx):
    SEEN.clear()
    run_state_machine_as_test(CaseMachine)  # examples and steps: the Hypothesis profile (tests/conftest.py)
    print("case machine reached:", dict(sorted(SEEN.items())))


def test_an_exchange_cannot_be_proposed_for_a_complaint_without_an_order(ctx):
    """Found by the machine above: a complaint about a listing (no order) mediated to an 'exchange'
    reached execution, and the seller's ship_replacement then failed with an IntegrityError (a
    replacement shipment needs an order). There is nothing to exchange: the proposal is a 422."""
    buyer, seller, mediator = make_user("buyer"), make_user("seller"), make_user("mediator")
    case = file_complaint(actor=buyer, listing_id=make_product(seller.shop).id, type="listing_violation")
    perform_action(case.id, "respond", actor=seller, data={"statement": "已下架"})
    perform_action(case.id, "assign", actor=mediator)
    perform_action(case.id, "start_review", actor=mediator)
    with pytest.raises(Invalid):
        perform_action(case.id, "propose", actor=mediator, data={
            "remedy": "exchange", "amount_fen": 0, "findings": "图片与实物不符", "rule": "商品发布违规"})
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.phase, case.state, case.event_count) == ("mediation", "under_review", 4)


def test_a_compensation_counts_against_what_is_still_refundable(ctx):
    """Found by the machine above: an after-sales compensation (补偿, "a partial refund without
    return") paid by the shop left the order's refundable amount untouched, so a later full refund
    paid the buyer back 1.4 times the price."""
    order, buyer, seller = make_order(state="completed", price_fen=10_000)
    make_order(seller=seller, state="completed", price_fen=50_000)  # the shop holds money to pay from
    case = open_case(order.id, actor=buyer, kind="compensation", reason="quality", amount_fen=4_000)
    perform_action(case.id, "agree", actor=seller)
    if "pay_refund" in [name for name, _ in actions_for(db.session.get(Case, case.id), seller)]:
        perform_action(case.id, "pay_refund", actor=seller)  # should it be paid as a refund by the seller
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "resolved"
    assert money_for([order.id])[order.id]["refundable_fen"] == 6_000
    with pytest.raises(Invalid):
        open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000)
