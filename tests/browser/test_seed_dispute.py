"""The seed's dispute (a silk dress whose colour is not as described), played on the pages only — no
API call, no service call on behalf of a user — by three users in their own browser contexts:

 1 the buyer files a refund with a photo          7 the mediator starts the review and reads both sides
 2 the seller refuses with a reason and evidence  8 the mediator proposes a partial refund
 3 the buyer reads that reason and escalates      9 the buyer rejects it with a reason
 4 the seller responds                           10 the mediator reads that reason
 5 the mediator takes the case                   11 the mediator rules, with a penalty
 6 the mediator requests evidence; the seller    12 the buyer sees the refund executed
   reads the request and uploads it

Once in Chinese, once in English, once at 390 x 844 (every page visited must not scroll sideways).

Controls are found by what does not change with the markup or the language: a form's action URL
(`form[action$="/actions/refuse"]`), field names ending in the action field's name, option values.
A text a user wrote that does not reach its reader, or a control that is not there, fails the test
naming it."""
import re
import time
from dataclasses import dataclass, field

import pytest

from app.cases.models import Case
from app.extensions import db

from ..evidence.test_evidence_api import png_bytes
from ..factories import make_order, make_user
from .conftest import DESKTOP, PHONE

PRICE_FEN = 45_900
PROPOSED_YUAN, RULED_YUAN = "150.00", "200.00"
TEXTS = {  # what the users write; each must reach the users who need to read it
    "request": "颜色与详情页严重不符，自然光下明显偏黄",
    "refusal": "商品为实物拍摄，色差在合理范围内",
    "complaint": "卖家拒绝退款，申请平台介入",
    "statement": "已上传发货前实拍图，颜色与详情页一致",
    "evidence_request": "请卖家提供发货前的自然光实拍图",
    "rejection": "只退一百五十元太少，衣服无法穿着",
    "findings": "存在明显色差，与详情页描述不符",
    "rule": "淘宝争议处理规范 第十二条 描述不符",
}


@dataclass
class Play:
    """The three users, the case, and what was found missing on the way."""
    buyer: object
    seller: object
    mediator: object
    order_id: int
    phone: bool
    case_id: int = None
    passed: list = field(default_factory=list)
    missing: list = field(default_factory=list)

    def step_done(self, name):
        self.passed.append(name)

    def lack(self, step, control):
        self.missing.append(f"step {step}: {control}")

    def stop(self, step, control):
        """A missing control the rest of the dispute cannot do without."""
        self.lack(step, control)
        pytest.fail(self.summary())

    def summary(self):
        return f"passed: {', '.join(self.passed) or 'none'} — missing: " + "; ".join(self.missing)


# ------------------------------------------------------------------------------------ helpers

def case_row(case_id):
    """The case as the database has it now (the main thread's snapshot ends first: SQLite's WAL
    would otherwise keep showing the state from before the browser's requests)."""
    db.session.rollback()
    case = db.session.get(Case, case_id)
    snapshot = {"phase": case.phase, "state": case.state, "mediator_id": case.mediator_id,
                "remedy_amount_fen": case.remedy_amount_fen, "penalties": list(case.penalties or [])}
    db.session.rollback()
    return snapshot


def visit(play, who, path):
    who.go(path)
    if play.phone:
        who.assert_fits()
    return who


def action_form(who, trigger):
    return who.page.locator(f'form[action$="/actions/{trigger}"]')


def control(form, name):
    """The input for action field `name` in `form` (names may carry a prefix: refuse-reason)."""
    return form.locator(f'[name="{name}"], [name$="-{name}"]').first


def set_field(form, name, value):
    """Fill a text field, pick an option by value from a select, or tick the radio with that value."""
    radios = form.locator(f'input[type=radio][name$="{name}"][value="{value}"]')
    if radios.count():
        radios.first.check()
        return
    box = control(form, name)
    if box.evaluate("e => e.tagName") == "SELECT":
        box.select_option(value)
    else:
        box.fill(value)


def submit(play, who, form):
    """Press the form's own submit button, accepting a confirmation, and land on the next page."""
    with who.page.expect_navigation() as nav:
        form.locator("button[type=submit], input[type=submit]").first.click()
    response = nav.value
    if response is not None and response.status >= 500:
        raise AssertionError(f"{who.name}: submitting to {form.get_attribute('action')} answered {response.status}")
    errors = who.page.locator(".flash.error, form .error-text")
    assert not errors.count(), f"{who.name}: {' | '.join(errors.all_inner_texts())}"
    if play.phone:
        who.assert_fits()
    return response


def do(play, who, trigger, step, **fields):
    """Fill and submit the form of `trigger` on the case page; the form must be there."""
    visit(play, who, f"/cases/{play.case_id}")
    form = action_form(who, trigger)
    if not form.count():
        play.stop(step, f"no form for '{trigger}' on the {who.name}'s case page")
    for name, value in fields.items():
        if not control(form, name).count() and not form.locator(f'input[type=radio][name$="{name}"]').count():
            play.stop(step, f"no control for the '{name}' field of '{trigger}'")
        set_field(form, name, value)
    confirm(form)
    submit(play, who, form)


def confirm(form):
    """Tick the confirmation an irreversible step asks for ("我确认…"), where the form has one."""
    box = form.locator('input[type=checkbox][name$="-confirm"]')
    if box.count():
        box.first.check()


def photo(n=[0]):  # noqa: B006 - a counter: each upload is a different picture (the store dedups by hash)
    n[0] += 1
    return png_bytes((64, 48), color=(200, (40 * n[0]) % 256, 30))


def upload_evidence(play, who, description, name="photo.png"):
    visit(play, who, f"/cases/{play.case_id}")
    form = who.page.locator('form[action*="/evidence"]:has(input[type=file])')
    assert form.count(), f"no evidence upload form for {who.name}"
    form.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": photo()})
    set_field(form, "kind", "photo")
    set_field(form, "description", description)
    submit(play, who, form)
    assert description in who.text() or who.page.locator("img.thumb").count(), "the upload is not listed"


def sees(play, who, text, step, what):
    """A text a user wrote must be on the reader's case page; record it as missing when not."""
    visit(play, who, f"/cases/{play.case_id}")
    if text not in who.text():
        play.lack(step, f"{what} is not shown to the {who.role}")
        return False
    return True


# ------------------------------------------------------------------------------------ steps

def step1_buyer_files_refund_with_photo(play):
    buyer = play.buyer
    visit(play, buyer, f"/orders/{play.order_id}")
    form = buyer.page.locator(f'form[action$="/orders/{play.order_id}/cases"]')
    assert form.count(), "no after-sales request form on the order page"
    set_field(form, "kind", "refund_only")
    set_field(form, "reason", "not_as_described")
    set_field(form, "amount", "459.00")
    set_field(form, "description", TEXTS["request"])
    picker = form.locator("input[type=file]")
    if not picker.count():
        play.stop(1, "no photo control on the request form")
    picker.first.set_input_files({"name": "colour.png", "mimeType": "image/png", "buffer": photo()})
    submit(play, buyer, form)
    match = re.search(r"/cases/(\d+)", buyer.path)
    assert match, f"filing did not land on the case page: {buyer.path} {buyer.flash_text()}"
    play.case_id = int(match.group(1))
    assert case_row(play.case_id)["state"] == "requested"
    assert buyer.page.locator('img[src*="/evidence/"]').count(), "the photo filed with the request is not shown"
    buyer.shot("1-buyer-requested")
    play.step_done("1 file refund")


def step2_seller_refuses_with_reason_and_evidence(play):
    seller = play.seller
    sees(play, seller, TEXTS["request"], 2, "the buyer's request description")
    upload_evidence(play, seller, "发货前实拍图")
    do(play, seller, "refuse", 2, reason=TEXTS["refusal"])
    assert case_row(play.case_id)["state"] == "refused"
    seller.shot("2-seller-refused")
    play.step_done("2 refuse with reason and evidence")


def step3_buyer_reads_reason_and_escalates(play):
    buyer = play.buyer
    sees(play, buyer, TEXTS["refusal"], 3, "the seller's refusal reason")
    do(play, buyer, "escalate", 3, type="not_as_described", description=TEXTS["complaint"])
    row = case_row(play.case_id)
    assert (row["phase"], row["state"]) == ("complaint", "awaiting_response")
    buyer.shot("3-buyer-escalated")
    play.step_done("3 read reason and escalate")


def step4_seller_responds(play):
    seller = play.seller
    sees(play, seller, TEXTS["complaint"], 4, "the buyer's complaint statement")
    do(play, seller, "respond", 4, statement=TEXTS["statement"])
    row = case_row(play.case_id)
    assert (row["phase"], row["state"]) == ("mediation", "queued")
    play.step_done("4 respond")


def step5_mediator_takes_the_case(play):
    mediator = play.mediator
    visit(play, mediator, "/queue")
    number = mediator.page.locator(f'a[href$="/cases/{play.case_id}"]').first
    assert number.count(), "the case is not in the mediator's queue"
    with mediator.page.expect_navigation():
        number.click()
    do(play, mediator, "assign", 5)
    row = case_row(play.case_id)
    assert row["state"] == "assigned" and row["mediator_id"] is not None
    mediator.shot("5-mediator-assigned")
    play.step_done("5 take the case")


def step6_mediator_requests_evidence(play):
    mediator, seller = play.mediator, play.seller
    do(play, mediator, "request_evidence", 6, party="seller", note=TEXTS["evidence_request"])
    assert case_row(play.case_id)["state"] == "evidence_period"
    sees(play, seller, TEXTS["evidence_request"], 6, "the mediator's evidence request")
    upload_evidence(play, seller, "自然光实拍图 补充")
    seller.shot("6-seller-evidence")
    play.step_done("6 request evidence, seller uploads")


def step7_mediator_reviews(play):
    mediator = play.mediator
    visit(play, mediator, f"/cases/{play.case_id}")
    for key, what in (("refusal", "the seller's refusal reason"), ("statement", "the seller's statement"),
                      ("complaint", "the buyer's complaint statement")):
        if TEXTS[key] not in mediator.text():
            play.lack(7, f"{what} is not shown to the mediator")
    form = action_form(mediator, "start_review")
    assert form.count(), "no start_review form for the mediator"
    with mediator.page.expect_navigation() as nav:
        form.locator("button[type=submit]").first.click()
    assert case_row(play.case_id)["state"] == "under_review"
    play.step_done("7 start review")
    if nav.value is not None and nav.value.status >= 500:
        play.stop(8, "the mediator's case page answers 500 under review")


def step8_mediator_proposes_partial_refund(play):
    mediator = play.mediator
    do(play, mediator, "propose", 8, remedy="partial_refund", amount_fen=PROPOSED_YUAN,
       findings=TEXTS["findings"], rule=TEXTS["rule"])
    row = case_row(play.case_id)
    assert (row["phase"], row["state"]) == ("resolution", "proposed")
    mediator.shot("8-mediator-proposed")
    play.step_done("8 propose partial refund")


def step9_buyer_rejects_with_reason(play):
    buyer = play.buyer
    visit(play, buyer, f"/cases/{play.case_id}")
    assert "150.00" in buyer.text(), "the buyer does not see the proposed amount"
    do(play, buyer, "reject_proposal", 9, reason=TEXTS["rejection"])
    assert case_row(play.case_id)["state"] == "rejected"
    play.step_done("9 reject with reason")


def step10_mediator_reads_the_rejection(play):
    response = play.mediator.page.goto(f"{play.mediator.base}/cases/{play.case_id}")
    if response.status >= 500:
        play.stop(10, "the mediator's case page answers 500 once a proposal was rejected")
    if sees(play, play.mediator, TEXTS["rejection"], 10, "the buyer's proposal-rejection reason"):
        play.step_done("10 read rejection reason")


def step11_mediator_rules_with_penalty(play):
    mediator = play.mediator
    visit(play, mediator, f"/cases/{play.case_id}")
    form = action_form(mediator, "rule")
    if not form.count():
        play.stop(11, "no form for 'rule' on the mediator's case page")
    kind = form.locator('select:has(option[value="points"])')
    if not kind.count():
        play.stop(11, "no penalties sub-form (a penalty kind select with 'points') in the ruling form")
    kind.first.select_option("points")
    points = form.locator('input[name*="points"]')
    if points.count():
        points.first.fill("6")
    do_fields = dict(remedy="partial_refund", amount_fen=RULED_YUAN, findings=TEXTS["findings"], rule=TEXTS["rule"])
    for name, value in do_fields.items():
        set_field(form, name, value)
    confirm(form)
    submit(play, mediator, form)
    row = case_row(play.case_id)
    assert row["remedy_amount_fen"] == 20_000 and row["penalties"], row
    mediator.shot("11-mediator-ruled")
    play.step_done("11 rule with penalty")


def step12_buyer_sees_refund_executed(play):
    buyer = play.buyer
    row = case_row(play.case_id)
    assert row["phase"] == "closed", row
    visit(play, buyer, f"/cases/{play.case_id}")
    assert "¥200.00" in buyer.text()
    visit(play, buyer, f"/orders/{play.order_id}")
    assert "¥200.00" in buyer.text(), "the order page does not show the refund"
    buyer.shot("12-buyer-refunded")
    play.step_done("12 refund executed")


STEPS = [step1_buyer_files_refund_with_photo, step2_seller_refuses_with_reason_and_evidence,
         step3_buyer_reads_reason_and_escalates, step4_seller_responds, step5_mediator_takes_the_case,
         step6_mediator_requests_evidence, step7_mediator_reviews, step8_mediator_proposes_partial_refund,
         step9_buyer_rejects_with_reason, step10_mediator_reads_the_rejection, step11_mediator_rules_with_penalty,
         step12_buyer_sees_refund_executed]


@pytest.mark.parametrize("variant", ["zh", "en", "phone"])
def test_seed_dispute_on_pages(ctx, open_as, variant):
    order, buyer, seller = make_order(state="delivered", price_fen=PRICE_FEN)
    mediator = make_user("mediator")
    viewport, lang = {"zh": (DESKTOP, None), "en": (DESKTOP, "en"), "phone": (PHONE, None)}[variant]
    started = time.perf_counter()
    play = Play(*(open_as(u, viewport=viewport, lang=lang) for u in (buyer, seller, mediator)),
                order_id=order.id, phone=variant == "phone")
    print(f"log in three users: {time.perf_counter() - started:.2f}s")
    for who in (play.buyer, play.seller, play.mediator):
        who.page.on("dialog", lambda dialog: dialog.accept())  # confirmations before irreversible steps
    for step in STEPS:
        started = time.perf_counter()
        step(play)
        print(f"{step.__name__}: {time.perf_counter() - started:.2f}s")
    assert not play.missing, play.summary()
