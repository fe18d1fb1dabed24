"""Known histories for the overview tests, built through the real services at chosen times."""
from datetime import timedelta

from app.cases.services import file_complaint, open_case, perform_action
from app.orders.services import create_order, perform_order_action

from ..factories import make_product, make_user


def H(n):
    return timedelta(hours=n)


def order_in(category="home", *, now, seller=None, buyer=None, state="paid"):
    """A paid (or delivered) order of one item of `category` from `seller`'s shop."""
    seller = seller or make_user("seller")
    buyer = buyer or make_user("buyer")
    product = make_product(seller.shop, category=category)
    order = create_order(buyer=buyer, items=[(product, 1)], address="杭州市", now=now)
    perform_order_action(order.id, "pay", actor=buyer, now=now)
    if state == "delivered":
        perform_order_action(order.id, "ship", actor=seller, data={"carrier": "sf", "tracking_no": "SF100200300"},
                             now=now)
        perform_order_action(order.id, "deliver", actor=None, now=now)
    return order, buyer, seller


def request(opened, *, category="home", reason="not_received", seller=None, state="paid"):
    """An open refund request (negotiation), opened at `opened`; returns (case id, seller)."""
    order, buyer, seller = order_in(category, now=opened, seller=seller, state=state)
    return open_case(order.id, actor=buyer, kind="refund_only", reason=reason, amount_fen=100, now=opened).id, seller


def escalated(opened, *, category="home", reason="quality", type="quality", seller=None):
    """A refund request the seller refuses and the buyer escalates: it has a reason and a complaint type."""
    order, buyer, seller = order_in(category, now=opened, seller=seller, state="delivered")
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason=reason, amount_fen=100, now=opened).id
    perform_action(cid, "refuse", actor=seller, data={"reason": "与描述一致"}, now=opened)
    perform_action(cid, "escalate", actor=buyer, data={"type": type}, now=opened)
    return cid


def closed(opened, hours, **kw):
    """A refund request the seller agrees to `hours` after it was opened: the refund runs and the case closes."""
    cid, seller = request(opened, **kw)
    perform_action(cid, "agree", actor=seller, data={}, now=opened + H(hours))
    return cid


def complaint(at, *, category="home", type="not_as_described", seller=None, respond=True):
    """A complaint on a delivered order; answered by the seller it is queued for a mediator."""
    order, buyer, seller = order_in(category, now=at, seller=seller, state="delivered")
    cid = file_complaint(actor=buyer, order_id=order.id, type=type, description="描述不符", now=at).id
    if respond:
        perform_action(cid, "respond", actor=seller, data={"statement": "已提供聊天记录"}, now=at)
    return cid, buyer, seller


def decided(at, hours, mediator, **kw):
    """A complaint queued at `at`, taken by `mediator`, proposed, and accepted by both `hours` later."""
    cid, buyer, seller = complaint(at, **kw)
    perform_action(cid, "assign", actor=mediator, now=at)
    perform_action(cid, "start_review", actor=mediator, now=at)
    perform_action(cid, "propose", actor=mediator, now=at, data={
        "remedy": "partial_refund", "amount_fen": 50, "findings": "色差明显", "rule": "描述不符 · 部分退款"})
    perform_action(cid, "accept_proposal", actor=buyer, now=at + H(hours) / 2)
    perform_action(cid, "accept_proposal", actor=seller, now=at + H(hours))
    return cid
