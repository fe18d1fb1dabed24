from flask import g, request

from ...cases.queries import get_case
from ...reports.routes import pdf_response
from ...reports.services import case_report, report_lang
from . import bp, token_required


@bp.get("/cases/<int:case_id>/report.pdf")
@token_required
def case_report_pdf(case_id):
    """The printable case report (PDF) in ?lang=zh|en, else the language the client accepts."""
    case = get_case(g.api_user, case_id)
    lang = report_lang(request.args.get("lang"), default=request.accept_languages.best_match(("zh", "en"), "zh"))
    pdf, sha256 = case_report(case, user=g.api_user, lang=lang)
    return pdf_response(case, pdf, sha256, lang)
