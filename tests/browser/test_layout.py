"""Every main page, as each role, at phone width (390 px) and desktop width (1280 px): no page scrolls
sideways on a phone, the navigation is reachable, and screenshots of each role's main pages and of
the case page in every phase land in tests/artifacts/ for a person to look at."""
from datetime import timedelta

import pytest

from app.cases.services import open_case, perform_action
from app.chat.services import post_order_message
from app.timeutil import utcnow

from ..factories import make_order, make_user
from .conftest import DESKTOP, PHONE

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
LONG = ("颜色与详情页严重不符，自然光下明显偏黄，和商品详情页的图片完全不一样。"
        "AVeryLongUnbrokenWordThatWouldPushThePageSidewaysIfNothingWrappedIt_0123456789")


def _case(order, buyer, seller, mediator, phase, now):
    """A case on `order` walked through the services to a state in `phase`."""
    t = now - timedelta(hours=3)
    if phase == "execution":  # the money was released: the refund waits for the seller
        case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=6_000,
                         description=LONG, now=t)
        return perform_action(case.id, "agree", actor=seller, now=t)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="not_as_described",
                     amount_fen=order.total_fen, description=LONG, now=t)
    if phase == "negotiation":
        return case
    if phase == "closed":
        return perform_action(case.id, "agree", actor=seller, now=t)
    perform_action(case.id, "refuse", actor=seller, data={"reason": "商品为实物拍摄，色差在合理范围内"}, now=t)
    perform_action(case.id, "escalate", actor=buyer, data={"type": "not_as_described", "description": LONG}, now=t)
    if phase == "complaint":
        return case
    perform_action(case.id, "respond", actor=seller, data={"statement": "已上传发货前实拍图"}, now=t)
    perform_action(case.id, "assign", actor=mediator, now=t)
    perform_action(case.id, "request_evidence", actor=mediator, data={"party": "seller", "note": "请提供实拍图"}, now=t)
    if phase == "mediation":
        return case
    perform_action(case.id, "start_review", actor=mediator, now=t)
    return perform_action(case.id, "propose", actor=mediator, now=t, data={
        "remedy": "partial_refund", "amount_fen": order.total_fen // 2, "findings": "存在色差，但商品可正常使用",
        "rule": "淘宝争议处理规范 第十二条"})


@pytest.fixture
def world(ctx):
    """One buyer, one shop, one mediator; a case in every phase, each on its own order."""
    now = utcnow()
    buyer, seller, mediator = make_user("buyer"), make_user("seller"), make_user("mediator")
    cases = {}
    for phase in ("negotiation", "complaint", "mediation", "resolution", "execution", "closed"):
        state = "completed" if phase == "execution" else "delivered"
        order, *_ = make_order(buyer=buyer, seller=seller, state=state, price_fen=45_900, now=now - timedelta(days=2))
        cases[phase] = _case(order, buyer, seller, mediator, phase, now).id
    first = cases["negotiation"]
    from app.cases.models import Case
    from app.extensions import db
    order_id = db.session.get(Case, first).order_id
    for n, body in enumerate(["收到了，但是颜色和图片差别有点大", "亲，不同显示器会有一点色差的"]):
        post_order_message(order_id, actor=buyer if n % 2 == 0 else seller, body=body)
    return {"buyer": buyer, "seller": seller, "mediator": mediator, "cases": cases, "order_id": order_id}


def _main_pages(role, world):
    case = world["cases"]["negotiation"] if role != "mediator" else world["cases"]["mediation"]
    pages = {"home": "/", "cases": "/cases", "case": f"/cases/{case}"}
    if role != "mediator":
        pages["order"] = f"/orders/{world['order_id']}"
    return pages


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("role", ["buyer", "seller", "mediator"])
def test_main_pages_fit_and_are_captured(open_as, world, role, size):
    visitor = open_as(world[role], viewport=VIEWPORTS[size])
    for name, path in _main_pages(role, world).items():
        visitor.go(path)
        visitor.shot(f"{name}")
        if size == "phone":
            visitor.assert_fits()
        # the navigation is reachable: every header link is visible or one tap away in the menu
        _assert_navigation_reachable(visitor, shot=name == "home")


def _assert_navigation_reachable(visitor, shot=False):
    page = visitor.page
    links = page.locator("header a[href='/cases']")
    if not links.filter(visible=True).count():
        menu = page.locator("header details.menu")
        assert menu.count() == 1, "no visible navigation and no menu in the header"
        menu.locator("summary").click()
        assert links.filter(visible=True).count() >= 1, "the menu does not show the navigation"
        assert page.locator("header form[action$='/logout'] button").filter(visible=True).count() == 1
        if shot:
            visitor.shot("menu-open", full_page=False)
        menu.locator("summary").click()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_login_page_fits(open_as, app, size):
    visitor = open_as(None, viewport=VIEWPORTS[size])
    visitor.go("/login")
    visitor.shot("login")
    if size == "phone":
        visitor.assert_fits()


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("phase", ["negotiation", "complaint", "mediation", "resolution", "execution", "closed"])
def test_case_page_in_every_phase(open_as, world, phase, size):
    """The case page as buyer, seller and mediator (where the mediator has it), in each phase."""
    case_id = world["cases"][phase]
    roles = ("buyer", "seller", "mediator") if phase in ("mediation", "resolution") else ("buyer", "seller")
    for role in roles:
        visitor = open_as(world[role], viewport=VIEWPORTS[size])
        visitor.go(f"/cases/{case_id}")
        visitor.shot(f"{role}")
        if size == "phone":
            visitor.assert_fits()
