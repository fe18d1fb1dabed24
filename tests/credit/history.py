"""Building a buyer's history through the real services: requests, complaints, mediation, decisions."""
from app.cases.services import file_complaint, open_case, perform_action

from ..factories import make_order


def complaint(buyer, at, price_fen=10_000):
    """A complaint on a new delivered order of the buyer; returns (case id, seller)."""
    order, _, seller = make_order(buyer=buyer, state="delivered", price_fen=price_fen, now=at)
    return file_complaint(actor=buyer, order_id=order.id, type="quality", description="质量问题", now=at).id, seller


def request(buyer, at, amount_fen=10_000, price_fen=10_000):
    """An after-sales request (refund only) on a new delivered order; returns (case id, seller)."""
    order, _, seller = make_order(buyer=buyer, state="delivered", price_fen=price_fen, now=at)
    return open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=amount_fen,
                     now=at).id, seller


def escalate(cid, buyer, seller, at):
    """A request the seller refuses and the buyer escalates into a complaint."""
    perform_action(cid, "refuse", actor=seller, data={"reason": "不同意"}, now=at)
    perform_action(cid, "escalate", actor=buyer, data={"type": "quality", "description": "卖家拒绝"}, now=at)


def to_review(cid, seller, mediator, at):
    """The seller answers the complaint; the mediator takes the case and reviews it."""
    perform_action(cid, "respond", actor=seller, data={"statement": "商品没有问题"}, now=at)
    perform_action(cid, "assign", actor=mediator, now=at)
    perform_action(cid, "start_review", actor=mediator, now=at)


def decision(remedy, amount_fen=0, malicious=None):
    data = {"remedy": remedy, "amount_fen": amount_fen, "findings": "查明事实", "rule": "淘宝争议处理规范"}
    if malicious is not None:
        data["buyer_malicious"] = malicious
    return data


def propose(cid, mediator, at, remedy, amount_fen=0, malicious=None):
    perform_action(cid, "propose", actor=mediator, data=decision(remedy, amount_fen, malicious), now=at)


def accept_both(cid, buyer, seller, at):
    perform_action(cid, "accept_proposal", actor=buyer, now=at)
    perform_action(cid, "accept_proposal", actor=seller, now=at)


def rule(cid, seller, mediator, at, remedy, amount_fen=0, malicious=None):
    """The seller rejects the proposal; the mediator rules."""
    perform_action(cid, "reject_proposal", actor=seller, data={"reason": "不接受"}, now=at)
    perform_action(cid, "rule", actor=mediator, data=decision(remedy, amount_fen, malicious), now=at)


def dismissed_complaint(buyer, mediator, at, bound_at=None):
    """A complaint dismissed by a proposal both parties accept at `bound_at` (default `at`); returns the case id."""
    cid, seller = complaint(buyer, at)
    to_review(cid, seller, mediator, at)
    propose(cid, mediator, at, "dismiss")
    accept_both(cid, buyer, seller, bound_at or at)
    return cid
