"""The printable case report (issue 12): real cases rendered and read back through the PDF itself."""
import pytest

from app.cases.models import Case
from app.evidence.models import Evidence
from app.execution.services import tasks_of
from app.extensions import db
from app.payments.models import JournalEntry
from app.timeutil import utcnow
from app.web import money

from ..api.helpers import assert_error, token_for
from ..factories import make_user
from .stories import (body_text, mediated_ruling, negotiated_refund, pdf_fonts, pdf_pages, pdf_text, platform_advance,
                      squeeze)


@pytest.fixture
def now():
    return utcnow().replace(microsecond=0)


def report(client, case_id, user, lang="zh"):
    response = client.get(f"/api/v1/cases/{case_id}/report.pdf?lang={lang}", headers=token_for(client, user))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    return response.data


def the_case(case_id):
    db.session.expire_all()
    return db.session.get(Case, case_id)


def assert_whole_case_printed(pdf, case, *, chinese):
    """Every message, every evidence hash, the ledger amounts and the audit result are in the PDF's text;
    every page carries the footer (case number, audit head) and its page number."""
    text, flat = pdf_text(pdf), body_text(pdf)
    for m in case_messages(case):
        assert squeeze(m) in flat, m
    for sha in db.session.execute(db.select(Evidence.sha256).where(Evidence.case_id == case.id)).scalars():
        assert sha in flat
    for task in tasks_of(case.id):
        if task.amount_fen:
            assert money(task.amount_fen) in text
    assert ("审计链已校验" if chinese else "Audit trail verified") in text
    assert case.audit_head in flat
    pages = pdf_pages(pdf)
    for n in range(1, pages + 1):
        page = squeeze(pdf_text(pdf, n))
        assert case.number in page and case.audit_head in page, f"footer missing on page {n}"
        assert (f"第{n}页/共{pages}页" if chinese else f"Page{n}of{pages}") in page
    fonts = pdf_fonts(pdf)
    assert any("CJK" in name and embedded for name, embedded in fonts), fonts
    return text


def case_messages(case):
    from app.cases.models import CaseMessage
    from app.chat.models import OrderMessage
    bodies = list(db.session.execute(db.select(CaseMessage.body).where(
        CaseMessage.case_id == case.id, CaseMessage.author_role != "system")).scalars())
    return bodies + list(db.session.execute(db.select(OrderMessage.body).where(
        OrderMessage.order_id == case.order_id)).scalars())


def test_negotiated_refund_report_holds_the_reason_messages_evidence_and_refund(client, ctx, now):
    cid = negotiated_refund(now, images=2)
    case = the_case(cid)
    assert (case.phase, case.state) == ("closed", "resolved")
    text = assert_whole_case_printed(report(client, cid, case.buyer), case, chinese=True)
    assert "质量问题" in text and "杯子收到时有裂纹" in text
    assert "¥64.00" in text  # the counter-offer accepted and refunded
    assert "退一半可以吗" in text


def test_mediated_ruling_report_holds_the_ruling_penalties_rejection_ledger_and_outside_routes(client, ctx, now):
    cid, mediator = mediated_ruling(now)
    case = the_case(cid)
    pdf = report(client, cid, mediator)
    text = assert_whole_case_printed(pdf, case, chinese=True)
    flat = squeeze(text)
    assert "最终裁定" in text and "色差明显，与描述不符" in text and "描述不符·部分退款" in flat
    assert "不同意部分退款" in text          # the seller's rejection with its reason
    assert "仲裁" in text and "法院" in text  # the routes outside the platform
    entries = db.session.execute(db.select(JournalEntry).where(JournalEntry.case_id == cid)).scalars().all()
    assert entries and all(money(e.amount_fen) in text for e in entries)
    assert f"escrow:{case.order_id}" in flat  # a mediator sees the ledger's accounts


def test_platform_advance_report_shows_who_paid_and_the_buyer_sees_no_account_codes(client, ctx, now):
    cid = platform_advance(now)
    case = the_case(cid)
    refund = next(t for t in tasks_of(cid) if t.kind == "refund")
    assert refund.paid_by == "platform"
    text = assert_whole_case_printed(report(client, cid, case.buyer), case, chinese=True)
    assert "¥60.00" in text and "平台" in text
    assert "platform:guarantee" not in squeeze(text)  # parties read money in words (policy.can_see_ledger)


def test_english_report(client, ctx, now):
    cid, mediator = mediated_ruling(now)
    case = the_case(cid)
    text = assert_whole_case_printed(report(client, cid, mediator, lang="en"), case, chinese=False)
    assert "Not as described" in text and "Final ruling" in text and "arbitration" in text


def test_report_is_for_those_who_see_the_case_only(client, ctx, now):
    cid = negotiated_refund(now, images=0)
    stranger, other_mediator = make_user("buyer"), make_user("mediator")
    missing = client.get("/api/v1/cases/987654/report.pdf", headers=token_for(client, stranger))
    for user in (stranger, other_mediator):
        response = client.get(f"/api/v1/cases/{cid}/report.pdf", headers=token_for(client, user))
        assert_error(response, 404, "not_found")
        assert response.get_json() == missing.get_json()
    assert_error(client.get(f"/api/v1/cases/{cid}/report.pdf"), 401, "not_authenticated")
    assert_error(client.get(f"/api/v1/cases/{cid}/report.pdf?lang=fr",
                            headers=token_for(client, the_case(cid).buyer)), 422, "invalid")
