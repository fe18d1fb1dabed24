"""The case page in every state of every phase, for everyone who can see it — generated from the workflow
tables (workflows/cases.py PHASES), so a new state, action or field without a page fails here.

Each scenario drives a real case through the services (the system's timeouts through the same service the
sweeper calls) and renders the page for the buyer, the seller, the assigned mediator, another mediator and
an admin: 200 for those the policy lets see it, every available action shown with a control for each of its
fields, the waiting party and the deadline shown, and no internal name on the page."""
import html as htmllib
import re

from flask import g

from app.auth.policy import can_view_case
from app.cases.models import Case
from app.cases.queries import actions_for, case_tasks
from app.cases.services import file_complaint, open_case, perform_action
from app.extensions import db
from app.web import local_time
from workflows.cases import CLOSED_STATES, PHASES
from workflows.fields import FIELDS

from ..factories import make_order, make_user

SYSTEM = None  # the sweeper's actor


def expected_states():
    """Every (phase, state) a case can rest in: each phase's non-terminal states (a terminal one hands over at
    once) and the closed states."""
    rest = {(name, s.name) for name, phase in PHASES.items() for s in phase.spec.states if not s.terminal}
    return rest | {("closed", s) for s in CLOSED_STATES}


def expected_actions():
    """Every (phase, action, role) a person may be offered."""
    return {(name, tr.trigger, role) for name, phase in PHASES.items() for tr in phase.spec.transitions
            for role in tr.roles if role != "system"}


class World:
    def __init__(self):
        self.buyer, self.seller = make_user("buyer"), make_user("seller")
        self.mediator, self.other_mediator, self.admin = make_user("mediator"), make_user("mediator"), make_user("admin")

    def order(self, state="delivered", price_fen=12_000):
        return make_order(buyer=self.buyer, seller=self.seller, state=state, price_fen=price_fen)[0]

    def act(self, cid, trigger, actor, **data):
        perform_action(cid, trigger, actor=actor, data=data)
        return cid

    # negotiation
    def requested(self, kind="refund_only", state="delivered", amount=5_000, reason="damaged"):
        return open_case(self.order(state).id, actor=self.buyer, kind=kind, reason=reason, amount_fen=amount,
                         description="外包装破损，商品有划痕").id

    def countered(self):
        return self.act(self.requested(), "counter_offer", self.seller, amount_fen=2_000, note="只能补偿20元")

    def refused(self):
        return self.act(self.requested(), "refuse", self.seller, reason="商品出库前检查完好")

    def awaiting_return(self, kind="return_refund"):
        return self.act(self.requested(kind=kind), "agree", self.seller)

    def return_in_transit(self, kind="return_refund"):
        return self.act(self.awaiting_return(kind), "ship_return", self.buyer, carrier="sf", tracking_no="SF1001")

    def replacement_due(self):
        return self.act(self.return_in_transit("exchange"), "confirm_received", self.seller)

    def replacement_in_transit(self):
        return self.act(self.replacement_due(), "ship_replacement", self.seller, carrier="zto", tracking_no="ZT2002")

    # complaint, mediation, resolution
    def complaint(self, state="delivered"):
        return file_complaint(actor=self.buyer, order_id=self.order(state).id, type="not_as_described",
                              description="颜色与描述不符").id

    def queued(self, state="delivered"):
        return self.act(self.complaint(state), "respond", self.seller, statement="商品图片为实物拍摄")

    def assigned(self, state="delivered"):
        return self.act(self.queued(state), "assign", self.mediator)

    def evidence_period(self, state="delivered"):
        return self.act(self.assigned(state), "request_evidence", self.mediator, party="both", note="请提供开箱视频")

    def under_review(self, state="delivered"):
        return self.act(self.evidence_period(state), "close_evidence", SYSTEM)  # only the sweeper gets here

    def proposed(self, remedy="partial_refund", amount=3_000, state="delivered", penalties=({"kind": "points",
                                                                                           "points": 2},)):
        return self.act(self.under_review(state), "propose", self.mediator, remedy=remedy, amount_fen=amount,
                        findings="色差明显", rule="描述不符 · 部分退款", penalties=list(penalties))

    def proposed_buyer_accepted(self):
        return self.act(self.proposed(), "accept_proposal", self.buyer)

    def rejected(self):
        return self.act(self.proposed(), "reject_proposal", self.buyer, reason="金额太少，不足以弥补损失")

    # execution
    def awaiting_seller_payment(self):
        """A refund agreed on a completed order: the money was released, the seller owes it."""
        return self.act(self.requested(state="completed"), "agree", self.seller)

    def exchange_ruled(self):
        cid = self.proposed(remedy="exchange", amount=0, penalties=())
        self.act(cid, "accept_proposal", self.buyer)
        return self.act(cid, "accept_proposal", self.seller)

    def replacement_shipped_in_execution(self):
        return self.act(self.exchange_ruled(), "ship_replacement", self.seller, carrier="sf", tracking_no="SF3003")

    # closed
    def resolved(self):
        return self.act(self.requested(state="paid", amount=12_000, reason="not_received"), "agree", self.seller)

    def withdrawn(self):
        return self.act(self.requested(), "withdraw", self.buyer)

    def expired(self):
        return self.act(self.countered(), "expire", SYSTEM)

    def dismissed(self):
        cid = self.proposed(remedy="dismiss", amount=0, penalties=())
        return self.act(self.act(cid, "accept_proposal", self.buyer), "accept_proposal", self.seller)


SCENARIOS = ["requested", "countered", "refused", "awaiting_return", "return_in_transit", "replacement_due",
             "replacement_in_transit", "complaint", "queued", "assigned", "evidence_period", "under_review",
             "proposed", "proposed_buyer_accepted", "rejected", "awaiting_seller_payment", "exchange_ruled",
             "replacement_shipped_in_execution", "resolved", "withdrawn", "expired", "dismissed"]

WAITING_WORDS = {"buyer": "等待买家", "seller": "等待卖家", "mediator": "等待调解员", "system": "系统"}
INTERNAL = re.compile(r"\b(?:%s)\b" % "|".join(sorted(
    {n for n in FIELDS if "_" in n} | {"on_timeout", "waiting_for"}
    | {tr.trigger for p in PHASES.values() for tr in p.spec.transitions if "_" in tr.trigger}
    | {s.name for p in PHASES.values() for s in p.spec.states if "_" in s.name})))
ACCOUNT = re.compile(r"\b(?:escrow|seller|platform|buyer):[\w:]+")


def visible_text(page):
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def form_of(page, case_id, trigger):
    match = re.search(r'<form[^>]*action="/cases/%d/actions/%s".*?</form>' % (case_id, trigger), page, re.S)
    return match and match.group(0)


def check_page(page, case, user, problems):
    where = f"{case.phase}/{case.state} as {user.username} ({user.role})"
    text = visible_text(page)
    shown = []
    for trigger, fields in actions_for(case, user):
        form = form_of(page, case.id, trigger)
        if form is None:
            problems.append(f"{where}: action {trigger!r} has no form")
            continue
        shown.append(trigger)
        for name in fields:
            control = f'name="{trigger}-{name}-0-kind"' if name == "penalties" else f'name="{trigger}-{name}"'
            if control not in form:
                problems.append(f"{where}: action {trigger!r} has no control for its field {name!r}")
    if case.waiting_for:
        tasks = case_tasks([case.id])[case.id]
        task = next((t for t in tasks if t.state != "done" and t.waiting_for not in (None, "system") and t.due_at),
                    None) if case.phase == "execution" else None
        waiting, due = (task.waiting_for, task.due_at) if task else (case.waiting_for, case.due_at)
        progress = text[text.find("售后进度"):]
        if WAITING_WORDS[waiting] not in progress:
            problems.append(f"{where}: the waiting party ({waiting}) is not shown")
        if local_time(due) not in progress or 'class="countdown"' not in page:
            problems.append(f"{where}: the deadline {local_time(due)} is not shown with a countdown")
    if found := INTERNAL.findall(text):
        problems.append(f"{where}: internal names on the page: {sorted(set(found))}")
    if user.role in ("buyer", "seller") and (found := ACCOUNT.findall(text)):
        problems.append(f"{where}: platform accounts shown to a party: {sorted(set(found))}")
    return shown


def test_the_case_page_works_in_every_state_of_every_phase_for_everyone_who_sees_it(app, ctx):
    world = World()
    users = [world.buyer, world.seller, world.mediator, world.other_mediator, world.admin]
    clients = {}
    for user in users:
        clients[user.id] = client = app.test_client()
        assert client.post("/login", data={"username": user.username, "password": "secret-pass"}).status_code == 302
    problems, states, actions = [], set(), set()
    for name in SCENARIOS:
        cid = getattr(world, name)()
        db.session.expire_all()
        case = db.session.get(Case, cid)
        states.add((case.phase, case.state))
        for user in users:
            g.pop("_login_user", None)  # the test's app context is shared with the requests: forget who was served
            response = clients[user.id].get(f"/cases/{cid}")
            if not can_view_case(user, case):
                if response.status_code != 404:
                    problems.append(f"{name} as {user.role}: {response.status_code}, expected 404")
                continue
            if response.status_code != 200:
                problems.append(f"{name}: {case.phase}/{case.state} as {user.username} ({user.role}) answered "
                                f"{response.status_code}")
                continue
            from app.auth.policy import case_role
            role = case_role(user, case)
            for trigger in check_page(response.get_data(as_text=True), case, user, problems):
                actions.add((case.phase, trigger, role))
    missing_states = expected_states() - states
    missing_actions = expected_actions() - actions
    assert not problems, "\n".join(problems)
    assert not missing_states, ("states in workflows/ no scenario here reaches: add a scenario to SCENARIOS "
                                f"so their page is tested: {sorted(missing_states)}")
    assert not missing_actions, ("actions in workflows/ no page here offered: add a scenario to SCENARIOS "
                                 f"so their form is tested: {sorted(missing_actions)}")


def test_every_action_field_has_a_label_and_a_control():
    from app.cases.forms import FIELD_LABELS, _field
    assert sorted(set(FIELDS) - set(FIELD_LABELS)) == []
    for name in FIELDS:
        assert _field(name) is not None
