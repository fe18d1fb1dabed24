"""GET /api/v1/analysis/reasons: the reason analysis (app/overview) as JSON, for mediators and admins."""
from flask import g, request

from ...errors import Forbidden, Invalid
from ...overview.queries import analysis, analysis_filter, local_today
from ...timeutil import utcnow
from . import bp, token_required

STAFF = ("mediator", "admin")


@bp.get("/analysis/reasons")
@token_required
def analysis_reasons():
    """Cases opened in the period by reason code and by complaint type, per category and week or month."""
    if g.api_user.role not in STAFF:
        raise Forbidden("Only mediators and admins see the reason analysis")
    f, problems = analysis_filter(request.args, local_today(utcnow()), blank_is_none=False)
    if problems:
        raise Invalid("Invalid filters", problems)
    a = analysis(f)
    return {
        "date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat(), "group": f.group,
        "category": f.category, "shop": f.shop, "periods": a.buckets, "total": a.total,
        "rows": [{"dimension": d, "code": code, "category": category, "period": period, "cases": n}
                 for d, code, category, period, n in a.rows],
    }
