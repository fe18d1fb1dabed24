"""The report's page route: 打印报告 on the case page."""
from flask import Blueprint, make_response, request
from flask_babel import get_locale
from flask_login import current_user, login_required

from ..cases.queries import get_case
from .services import case_report, report_lang, report_name

bp = Blueprint("reports", __name__)


def pdf_response(case, pdf, sha256, lang):
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{report_name(case, lang)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(sha256)
    return response


@bp.route("/cases/<int:case_id>/report.pdf")
@login_required
def case_report_page(case_id):
    """The report in the page's language (or ?lang=zh|en), for whoever may see the case."""
    case = get_case(current_user, case_id)
    lang = report_lang(request.args.get("lang"), default=str(get_locale()))
    pdf, sha256 = case_report(case, user=current_user, lang=lang)
    return pdf_response(case, pdf, sha256, lang)
