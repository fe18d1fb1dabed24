"""A rendered report is kept in the report store under its cache key: a repeat download of an unchanged case
is one lookup (the renderer is not called), and any change to the case makes a new report."""
import pytest

from app.chat.services import post_case_message, post_order_message
from app.reports import render, services
from app.reports.models import CaseReport
from app.timeutil import utcnow

from ..api.helpers import token_for
from ..factories import make_user
from .stories import body_text, mediated_ruling, negotiated_refund, pdf_text


@pytest.fixture
def renders(monkeypatch):
    """Counts the renders (the real renderer still runs)."""
    calls = []

    def spy(context, fetcher):
        calls.append(context["case"].id)
        return render.render_pdf(context, fetcher)
    monkeypatch.setattr(services, "render_pdf", spy)
    return calls


def download(client, case_id, headers, lang="zh"):
    response = client.get(f"/api/v1/cases/{case_id}/report.pdf?lang={lang}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.data


def test_a_second_download_of_an_unchanged_case_is_served_from_the_cache(client, ctx, renders):
    now = utcnow()
    cid = negotiated_refund(now, images=1)
    from app.cases.models import Case
    from app.extensions import db
    buyer = db.session.get(Case, cid).buyer
    b = token_for(client, buyer)
    first = download(client, cid, b)
    second = download(client, cid, b)
    assert renders == [cid]
    assert second == first
    assert db.session.query(CaseReport).count() == 1


def test_a_new_message_or_chat_line_makes_a_new_report(client, ctx, renders):
    now = utcnow()
    cid, mediator = mediated_ruling(now)
    m = token_for(client, mediator)
    first = download(client, cid, m)
    from app.cases.models import Case
    from app.extensions import db
    case = db.session.get(Case, cid)
    head, buyer = case.audit_head, case.buyer
    # the case is closed: the thread is read-only, but the order chat goes on (and moves no audit head)
    post_order_message(case.order_id, actor=buyer, body="裁定后补充：已收到退款", now=now)
    second = download(client, cid, m)
    assert renders == [cid, cid] and second != first
    assert "裁定后补充：已收到退款" in body_text(second)
    assert db.session.get(Case, cid).audit_head == head
    assert download(client, cid, m) == second and len(renders) == 2


def test_an_open_case_thread_message_makes_a_new_report(client, ctx, renders):
    from app.cases.services import open_case
    from ..factories import make_order
    now = utcnow()
    order, buyer, seller = make_order(state="delivered", now=now)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=now).id
    b = token_for(client, buyer)
    first = download(client, cid, b)
    post_case_message(cid, actor=seller, body="请提供照片", now=now)
    second = download(client, cid, b)
    assert len(renders) == 2 and "请提供照片" in body_text(second) and "请提供照片" not in body_text(first)


def test_language_and_what_the_reader_may_see_are_in_the_key(client, ctx, renders):
    now = utcnow()
    cid, mediator = mediated_ruling(now)
    from app.cases.models import Case
    from app.extensions import db
    case = db.session.get(Case, cid)
    m, b = token_for(client, mediator), token_for(client, case.buyer)
    admin = token_for(client, make_user("admin"))
    zh, en = download(client, cid, m), download(client, cid, m, "en")
    assert "最终裁定" in pdf_text(zh) and "Final ruling" in pdf_text(en)
    for_buyer, for_admin = download(client, cid, b), download(client, cid, admin)
    assert f"escrow:{case.order_id}" in body_text(zh) and f"escrow:{case.order_id}" not in body_text(for_buyer)
    evidence_sha = db.session.execute(db.text("SELECT sha256 FROM evidence WHERE case_id = :c"), {"c": cid}).scalar()
    assert evidence_sha in body_text(for_buyer) and evidence_sha not in body_text(for_admin)  # as on the case page
    assert len(renders) == 4


def test_a_report_whose_file_is_gone_is_rendered_again(client, ctx, renders):
    now = utcnow()
    cid = negotiated_refund(now, images=0)
    from app.cases.models import Case
    from app.extensions import db
    b = token_for(client, db.session.get(Case, cid).buyer)
    download(client, cid, b)
    row = db.session.query(CaseReport).one()
    assert services.report_store().delete(row.sha256)
    assert pdf_text(download(client, cid, b)).count("TJ") >= 1
    assert len(renders) == 2
    db.session.expire_all()
    assert services.report_store().exists(db.session.query(CaseReport).one().sha256)


def test_the_case_page_offers_the_report_and_the_page_route_serves_it(client, ctx, login_as):
    now = utcnow()
    cid = negotiated_refund(now, images=0)
    from app.cases.models import Case
    from app.extensions import db
    buyer = db.session.get(Case, cid).buyer
    login_as(buyer)
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert f'href="/cases/{cid}/report.pdf"' in page and "打印报告" in page
    response = client.get(f"/cases/{cid}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "协商历史" in pdf_text(response.data)
    english = client.get(f"/cases/{cid}/report.pdf?lang=en")
    assert "Negotiation history" in pdf_text(english.data)


def test_a_stranger_gets_the_page_404_of_a_missing_case(client, ctx, login_as):
    now = utcnow()
    cid = negotiated_refund(now, images=0)
    login_as(make_user("buyer"))
    hidden, missing = client.get(f"/cases/{cid}/report.pdf"), client.get("/cases/987654/report.pdf")
    assert hidden.status_code == missing.status_code == 404
    from ..test_authorization_matrix import _body
    assert _body(hidden) == _body(missing)


def test_flask_report_case_writes_the_pdf_and_refuses_without_a_cjk_font(app, ctx, runner, tmp_path, monkeypatch):
    now = utcnow()
    cid, _mediator = mediated_ruling(now)
    from app.cases.models import Case
    from app.extensions import db
    case = db.session.get(Case, cid)
    out = tmp_path / "r.pdf"
    result = runner.invoke(args=["report", "case", case.number, "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes())
    assert "Final ruling" in text and f"escrow:{case.order_id}" in body_text(out.read_bytes())
    result = runner.invoke(args=["report", "case", "TJ-NO-SUCH"])
    assert result.exit_code != 0 and "No case TJ-NO-SUCH" in result.output
    monkeypatch.setattr(render, "cjk_fonts", lambda: ())
    result = runner.invoke(args=["report", "case", case.number, "-o", str(tmp_path / "z.pdf"), "--lang", "zh"])
    assert result.exit_code != 0 and "CJK" in result.output and not (tmp_path / "z.pdf").exists()


def test_the_page_says_why_when_no_cjk_font_is_installed(client, ctx, login_as, monkeypatch):
    now = utcnow()
    cid = negotiated_refund(now, images=0)
    from app.cases.models import Case
    from app.extensions import db
    login_as(db.session.get(Case, cid).buyer)
    monkeypatch.setattr(render, "cjk_fonts", lambda: ())
    response = client.get(f"/cases/{cid}/report.pdf", headers={"Referer": f"http://localhost/cases/{cid}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{cid}")
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "CJK" in page and "fonts-noto-cjk" in page


def test_an_edited_template_never_serves_an_old_report(client, ctx, renders, monkeypatch):
    """The template's text is part of the key: nobody has to remember to raise a version number."""
    cid = negotiated_refund(utcnow(), images=0)
    from app.cases.models import Case
    from app.extensions import db
    b = token_for(client, db.session.get(Case, cid).buyer)
    download(client, cid, b)
    download(client, cid, b)
    monkeypatch.setattr(services, "_template_digest", lambda: "edited-template")
    download(client, cid, b)
    assert renders == [cid, cid]


def test_a_report_longer_than_the_evidence_page_cap_is_stored_and_served(client, ctx, monkeypatch):
    """The platform's own PDF is not an upload: the evidence checks (500 pages at most) refused a long case's
    report after it was rendered — a 500, nothing cached, every retry rendering again (attack review)."""
    from evidence_store import content

    from app.cases.models import Case
    from app.extensions import db
    monkeypatch.setattr(content, "MAX_PDF_PAGES", 0)  # every report is "too long" for an upload
    cid = negotiated_refund(utcnow(), images=0)
    b = token_for(client, db.session.get(Case, cid).buyer)
    assert download(client, cid, b)[:5] == b"%PDF-"
    assert db.session.query(CaseReport).count() == 1
