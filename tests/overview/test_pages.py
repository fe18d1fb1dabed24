"""The overview and analysis pages as mediators and admins see them, their CSV, and their bad input."""
import csv
import io
import re
from datetime import timedelta

from sqlalchemy import update

from app.cases.models import Case
from app.extensions import db
from app.timeutil import utcnow

from ..factories import make_user
from .helpers import H, closed, complaint, request


def text_of(html, element_id):
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|p|table)>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_mediator_sees_the_overview_with_its_figures_and_charts(ctx, client, login_as):
    now = utcnow()
    complaint(now - H(2))
    complaint(now - H(2))
    request(now - H(1))
    closed(now - H(5), 2)
    login_as(make_user("mediator"))

    html = client.get("/overview?lang=en").get_data(as_text=True)

    assert text_of(html, "queue-size").startswith("2 ")
    assert text_of(html, "open-total") == "3"
    assert text_of(html, "median-close").startswith("2 h 0 min")
    assert html.count('<svg class="chart"') == 2
    assert 'aria-label="Open cases by phase"' in html
    assert "Cases opened and closed per day, last 30 days" in html
    assert text_of(html, "trend-totals").startswith("4 opened, 1 closed")
    assert 'href="/overview"' in html  # the navigation link
    html90 = client.get("/overview?lang=en&trend=90").get_data(as_text=True)
    assert "last 90 days" in html90
    assert "last 30 days" in client.get("/overview?lang=en&trend=7").get_data(as_text=True)  # not offered: 30


def test_the_overview_is_in_chinese_by_default(ctx, client, login_as):
    login_as(make_user("admin"))
    html = client.get("/overview").get_data(as_text=True)
    assert "调解概览" in html and "按阶段的未结案件" in html


def test_buyers_and_sellers_do_not_see_the_overview_or_the_analysis(ctx, client, login_as):
    login_as(make_user("seller"))
    assert [client.get(p).status_code for p in ("/overview", "/analysis", "/analysis.csv")] == [403, 403, 403]
    assert 'href="/overview"' not in client.get("/cases").get_data(as_text=True)


def test_bad_dates_show_beside_the_field_with_422(ctx, client, login_as):
    login_as(make_user("mediator"))
    response = client.get("/analysis?lang=en&date_from=2026-02-31&group=week")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="filter-date_from-error" role="alert">Please enter a date as YYYY-MM-DD.' in html
    assert 'value="2026-02-31"' in html  # the input is kept to correct
    assert client.get("/analysis.csv?date_to=x").status_code == 422


def test_analysis_page_and_its_csv(ctx, client, login_as):
    now = utcnow()
    cid, _seller = request(now - H(30), reason="quality")
    request(now - H(20), reason="quality")
    request(now - timedelta(days=8), reason="not_received")
    complaint(now - H(3), type="not_shipped", respond=False)
    login_as(make_user("admin"))

    html = client.get("/analysis?lang=en").get_data(as_text=True)
    assert text_of(html, "analysis-total").startswith("4 cases opened")
    assert 'aria-label="Cases by reason"' in html and 'aria-label="Cases by complaint type"' in html
    assert "Quality problem" in html and "Paid but not shipped" in html
    since = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)  # the first of last month
    html = client.get(f"/analysis?lang=en&group=month&date_from={since}").get_data(as_text=True)
    assert f">{since:%Y-%m}</text>" in html  # months read as years and months, not "26-11"

    response = client.get("/analysis.csv?lang=en&group=month")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=reasons-")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Dimension", "Code", "Name", "Category", "Shop", "Period start", "Number of cases"]
    by_code = {}
    for dimension, code, name, category, shop, _start, n in rows[1:]:
        by_code[code] = by_code.get(code, 0) + int(n)
        assert category == "Home" and shop == "All shops"
    assert by_code == {"quality": 2, "not_received": 1, "not_shipped": 1}
    one = db.session.get(Case, cid).shop
    rows = list(csv.reader(io.StringIO(client.get(f"/analysis.csv?lang=en&shop={one.id}").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    assert {row[4] for row in rows[1:]} == {one.name} and sum(int(row[6]) for row in rows[1:]) == 1


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(ctx, client, login_as):
    cid, _seller = request(utcnow() - H(1))
    with db.engine.begin() as conn:  # a code no service writes, as if the data had been tampered with
        conn.execute(update(Case).where(Case.id == cid).values(reason="=HYPERLINK(1)", version=Case.version))
    login_as(make_user("mediator"))
    rows = list(csv.reader(io.StringIO(client.get("/analysis.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][1:3] == ["'=HYPERLINK(1)", "'=HYPERLINK(1)"]
