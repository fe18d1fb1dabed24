"""/overview (the mediation team's figures) and /analysis (cases by reason and complaint type over time, with
its CSV): all-platform aggregates for mediators and admins; read-only."""
import csv
import io

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auth.policy import role_required
from ..catalog.models import CATEGORIES
from ..charts import bar_chart, line_chart
from ..csv_cells import neutralise
from ..labels import label
from ..rules import get_rules
from ..timeutil import utcnow
from .queries import TREND_DAYS, analysis, analysis_filter, local_today, overview, shop_choices, trend

bp = Blueprint("overview", __name__)
STAFF = ("mediator", "admin")
TOP_LINES = 5  # reasons drawn over time
# drawn narrower than the charts' default so their text stays legible when a phone scales them down
BAR = {"width": 440, "label_width": 130}
LINE = {"width": 520, "whole": True, "max_labels": 6}


def code_label(dimension, code):
    return str(label(dimension, code))


def duration(seconds):
    """A median as days / hours / minutes; an empty window shows a dash."""
    if seconds is None:
        return "—"
    minutes = int(round(seconds / 60))
    d, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    if d:
        return _("%(d)s d %(h)s h", d=d, h=h)
    if h:
        return _("%(h)s h %(m)s min", h=h, m=m)
    return _("%(m)s min", m=m)


@bp.route("/overview")
@role_required(*STAFF)
def index():
    now = utcnow()
    days = request.args.get("trend", TREND_DAYS[0], type=int)
    days = days if days in TREND_DAYS else TREND_DAYS[0]
    figures = overview(now, get_rules()["overview_window_days"])
    points = trend(now, days)
    short = [(day[5:], opened, closed) for day, opened, closed in points]  # MM-DD on the axis
    charts = {
        "phases": bar_chart([(str(label("phase", p)), n) for p, n in figures.by_phase],
                            title=_("Open cases by phase"), **BAR),
        "trend": line_chart([(_("New cases"), [(d, o) for d, o, _c in short]),
                             (_("Closed cases"), [(d, c) for d, _o, c in short])],
                            title=_("Cases opened and closed per day, last %(n)s days", n=days), **LINE),
    }
    return render_template("overview/index.html", o=figures, charts=charts, days=days, trend_days=TREND_DAYS,
                           totals=(sum(p[1] for p in points), sum(p[2] for p in points)), duration=duration)


# how the page words each problem of analysis_filter
PROBLEMS = {
    "not_a_date": _l("Please enter a date as YYYY-MM-DD."),
    "not_a_choice": _l("Please choose one of the options."),
    "date_order": _l("The start must not be after the end."),
    "range_too_long": _l("At most two years at a time."),
}


def _analysis_args():
    f, problems = analysis_filter(request.args, local_today(utcnow()))
    return f, {name: str(PROBLEMS[problem.code]) for name, problem in problems.items()}


@bp.route("/analysis")
@role_required(*STAFF)
def analysis_page():
    f, problems = _analysis_args()
    result = analysis(f) if f else None
    charts = {}
    if result:
        for dimension, rows in result.by_code.items():
            charts[dimension] = bar_chart([(code_label(dimension, code), total) for code, total, _p in rows],
                                          title=_("Cases by reason") if dimension == "reason"
                                          else _("Cases by complaint type"), **BAR)
        top = result.by_code.get("reason", [])[:TOP_LINES]
        if top and len(result.buckets) > 1:
            charts["over_time"] = line_chart(
                [(code_label("reason", code), [(b[5:] if f.group == "week" else b[:7], periods.get(b, 0))
                                                for b in result.buckets]) for code, _t, periods in top],
                title=_("Top reasons over time"), **LINE)
    return render_template(
        "overview/analysis.html", a=result, charts=charts, problems=problems, values=request.args,
        categories=[(c, label("category", c)) for c in CATEGORIES], shops=shop_choices(), code_label=code_label,
        csv_args={k: v for k, v in request.args.items() if k in ("date_from", "date_to", "category", "shop",
                                                                 "group")}), 422 if problems else 200



@bp.route("/analysis.csv")
@role_required(*STAFF)
def analysis_csv():
    """The analysis's figures, one row per (dimension, code, category, period): UTF-8 with a BOM."""
    f, problems = _analysis_args()
    if problems:
        return analysis_page()
    result = analysis(f)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Dimension"), _("Code"), _("Name"), _("Category"), _("Shop"), _("Period start"),
                     _("Number of cases")])
    dims = {"reason": _("Reason"), "complaint_type": _("Complaint type")}
    # the rows are not per shop: the column says which shops they cover (the filter's shop, else all)
    shop = (dict(shop_choices()).get(f.shop) or f"#{f.shop}") if f.shop else _("All shops")
    for dimension, code, category, period, n in result.rows:
        writer.writerow([dims[dimension], neutralise(code), neutralise(code_label(dimension, code)),
                         neutralise(str(label("category", category)) if category else ""), neutralise(shop),
                         period, n])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=reasons-{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}.csv")
    response.headers["Cache-Control"] = "private, no-store"
    return response
