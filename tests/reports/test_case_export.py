"""Issue 12 point 5: the filtered case list as CSV for mediators and admins — the page's export, the API's
(GET /api/v1/cases/export.csv) and `flask report cases --csv` — read back as a spreadsheet program would."""
import csv
import gc
import io
import tracemalloc
from datetime import datetime, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import insert

from app.auth.services import issue_token
from app.cases.models import Case
from app.extensions import db

from ..factories import make_shop, make_user

BOM = b"\xef\xbb\xbf"
API = "/api/v1/cases/export.csv"


def _bearer(user):
    return {"Authorization": f"Bearer {issue_token(user)}"}


def _insert_cases(rows, buyer, shop, start=0):
    """Cases written straight into the table (the export reads the case rows only); each row is a dict of the
    columns that differ from a closed refund of ¥10.00 opened on 2026-03-10 12:00 UTC."""
    base = dict(kind="refund_only", reason="quality", phase="closed", state="resolved", amount_fen=1_000,
                buyer_id=buyer.id, shop_id=shop.id, created_at=datetime(2026, 3, 10, 12), description="",
                item_ids=[], penalties=[], remedy_amount_fen=0, version=1)
    values = []
    for i, row in enumerate(rows, start):
        value = {**base, "number": f"AS{i:08d}", **row}
        value.setdefault("updated_at", value["created_at"])
        if value["phase"] != "closed":
            value.setdefault("due_at", value["created_at"] + timedelta(days=3))
            value.setdefault("waiting_for", "seller")
        values.append(value)
    db.session.execute(insert(Case), values)
    db.session.commit()
    return [v["number"] for v in values]


def _read(response):
    """(header, rows) of a CSV answer, checking it is UTF-8 with a BOM."""
    body = response.get_data()
    assert response.status_code == 200, body[:300]
    assert response.mimetype == "text/csv" and body.startswith(BOM)
    table = list(csv.reader(io.StringIO(body[len(BOM):].decode("utf-8"), newline="")))
    return table[0], table[1:]


def _numbers(response):
    return sorted(row[0] for row in _read(response)[1])


@pytest.fixture
def world(ctx):
    """An admin, a mediator and two shops' worth of cases that differ in one filter each."""
    buyer, admin = make_user("buyer"), make_user("admin")
    mediator, other_mediator = make_user("mediator"), make_user("mediator")
    shop, other_shop = make_shop("甲店"), make_shop("乙店")
    n = dict(zip(("plain", "negotiating", "exchange", "damaged", "other_shop", "mediated", "old", "complaint"),
                 _insert_cases([
                     {},
                     {"phase": "negotiation", "state": "requested"},
                     {"kind": "exchange"},
                     {"reason": "damaged"},
                     {"shop_id": other_shop.id},
                     {"phase": "mediation", "state": "assigned", "mediator_id": mediator.id, "kind": "complaint",
                      "reason": None, "complaint_type": "not_shipped", "waiting_for": "mediator"},
                     # 2026-02-28 16:30 UTC is 2026-03-01 00:30 in Shanghai
                     {"created_at": datetime(2026, 2, 28, 16, 30)},
                     {"kind": "complaint", "reason": None, "complaint_type": "abuse",
                      "mediator_id": other_mediator.id},
                 ], buyer, shop)))
    return {"admin": admin, "mediator": mediator, "buyer": buyer, "shop": shop, "other_shop": other_shop,
            "other_mediator": other_mediator, "n": n}


def test_each_filter_narrows_the_rows_the_same_in_the_api_the_page_and_the_json_list(app, world, login_as, client):
    n, admin = world["n"], world["admin"]
    cases = {
        "": sorted(n.values()),
        "phase=negotiation": [n["negotiating"]],
        "state=assigned": [n["mediated"]],
        "kind=exchange": [n["exchange"]],
        "reason=damaged": [n["damaged"]],
        "reason=abuse": [n["complaint"]],  # a complaint's type is its reason
        f"shop={world['other_shop'].id}": [n["other_shop"]],
        f"mediator={world['mediator'].id}": [n["mediated"]],
        "opened_from=2026-03-01&opened_to=2026-03-01": [n["old"]],  # a day in Asia/Shanghai
        "opened_to=2026-02-28": [],
        "opened_from=2026-03-02": sorted(set(n.values()) - {n["old"]}),
        "kind=refund_only&reason=quality&phase=closed": sorted([n["plain"], n["other_shop"], n["old"]]),
    }
    headers = _bearer(admin)
    login_as(admin)
    for query, expected in cases.items():
        assert _numbers(app.test_client().get(f"{API}?{query}", headers=headers)) == expected, query
        assert _numbers(client.get(f"/cases/export.csv?{query}")) == expected, query
        listed = app.test_client().get(f"/api/v1/cases?per_page=100&{query}", headers=headers).get_json()
        assert sorted(c["number"] for c in listed["items"]) == expected, query
        page = client.get(f"/cases?{query}").get_data(as_text=True)
        assert all(number in page for number in expected), query
        assert not [x for x in set(n.values()) - set(expected) if x in page], query


def test_the_mediator_exports_only_the_cases_they_may_see(app, world):
    # theirs (assigned) and the unassigned queue; not the other mediator's complaint, not closed refunds
    numbers = _numbers(app.test_client().get(API, headers=_bearer(world["mediator"])))
    assert numbers == [world["n"]["mediated"]]


def test_columns_are_labelled_in_the_requesters_language_times_in_shanghai_and_a_dated_attachment(app, world,
                                                                                                      login_as, client):
    login_as(world["admin"])
    response = client.get(f"/cases/export.csv?kind=complaint&mediator={world['mediator'].id}")
    header, rows = _read(response)
    assert header == ["案件编号", "类型", "原因", "阶段", "状态", "买家", "店铺", "调解员", "金额（元）", "金额（分）",
                      "提交时间", "最近变更", "时限", "处理结果"]
    assert rows == [[world["n"]["mediated"], "投诉", "付款未发货", "平台介入调解", "小二已受理", "buyer 测试", "甲店",
                     "mediator 测试", "10.00", "1000", "2026-03-10 20:00", "2026-03-10 20:00", "2026-03-13 20:00", ""]]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "cases-" in disposition and disposition.endswith(".csv")
    assert datetime.now().strftime("%Y%m%d") in disposition or (datetime.now() - timedelta(days=1)).strftime(
        "%Y%m%d") in disposition or (datetime.now() + timedelta(days=1)).strftime("%Y%m%d") in disposition
    refresh()  # the test's own context (ctx) is shared with the client's requests: forget the page's locale
    english = app.test_client().get(f"{API}?lang=en&phase=negotiation", headers=_bearer(world["admin"]))
    header, rows = _read(english)
    assert header[:4] == ["Case number", "Kind", "Reason", "Phase"] and rows[0][1:5] == [
        "Refund only", "Quality problem", "Negotiation", "Awaiting the seller"]


def test_formula_cells_from_shop_and_buyer_names_are_neutralised(app, ctx):
    admin = make_user("admin")
    hostile = ['=HYPERLINK("http://127.0.0.1:9/x","点我")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
               "\tTAB", "\rCR"]
    for i, name in enumerate(hostile):
        buyer = make_user("buyer")
        buyer.display_name = name
        db.session.commit()
        _insert_cases([{}], buyer, make_shop(name if i < 4 else f"店{i}"), start=100 + i)
    _, rows = _read(app.test_client().get(API, headers=_bearer(admin)))
    cells = [cell for row in rows for cell in (row[5], row[6])]
    assert sorted(c for c in cells if c[1:] in hostile) == sorted("'" + h for h in hostile + hostile[:4])
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


@pytest.mark.parametrize("text, expected", [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-1", "'-1"), ("@x", "'@x"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("甲店", "甲店"), ("a=1", "a=1"), ("", ""), ("'=1", "'=1")])
def test_neutralise(text, expected):
    from app.csv_cells import neutralise
    assert neutralise(text) == expected


def test_buyers_and_sellers_may_not_export(app, world, client, login_as):
    seller = make_user("seller", shop=world["shop"])
    for user in (world["buyer"], seller):
        assert app.test_client().get(API, headers=_bearer(user)).status_code == 403
        login_as(user)
        response = client.get("/cases/export.csv")
        assert response.status_code == 403 and BOM not in response.get_data()
        assert "导出 CSV" not in client.get("/cases").get_data(as_text=True)
    assert app.test_client().get(API).status_code == 401


@pytest.mark.parametrize("query, field", [
    ("phase=open", "phase"), ("state=lost", "state"), ("kind=gift", "kind"), ("reason=bored", "reason"),
    ("shop=abc", "shop"), ("mediator=0", "mediator"), ("opened_from=2026-13-01", "opened_from"),
    ("opened_to=01/03/2026", "opened_to"), ("opened_from=20260301", "opened_from"), ("phase=", "phase")])
def test_bad_filters_are_422_in_the_api_and_shown_beside_the_field_on_the_page(app, world, client, login_as, query,
                                                                              field):
    response = app.test_client().get(f"{API}?{query}", headers=_bearer(world["admin"]))
    assert response.status_code == 422 and field in response.get_json()["error"]["details"]
    listed = app.test_client().get(f"/api/v1/cases?{query}", headers=_bearer(world["admin"]))
    assert listed.status_code == 422 and field in listed.get_json()["error"]["details"]
    if query == "phase=":
        return  # a page's empty select is no filter
    login_as(world["admin"])
    for path in ("/cases", "/cases/export.csv"):
        page = client.get(f"{path}?{query}")
        html = page.get_data(as_text=True)
        assert page.status_code == 422 and page.mimetype == "text/html", path
        assert f'id="filter-{field}-error"' in html and world["n"]["plain"] not in html, path


def test_the_list_page_offers_the_export_with_its_filters(world, client, login_as):
    login_as(world["mediator"])
    html = client.get(f"/cases?phase=mediation&mediator={world['mediator'].id}").get_data(as_text=True)
    assert "导出 CSV" in html
    assert f'href="/cases/export.csv?phase=mediation&amp;mediator={world["mediator"].id}"' in html


def _peak_while_reading(client, path, headers):
    gc.collect()
    tracemalloc.start()
    try:
        response = client.get(path, headers=headers, buffered=False)
        assert response.is_streamed
        rows = sum(chunk.count(b"\n") for chunk in response.response)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows - 1, peak


def test_the_export_streams_in_constant_memory(app, ctx):
    admin, buyer, shop = make_user("admin"), make_user("buyer"), make_shop()
    headers, client = _bearer(admin), app.test_client()
    _insert_cases([{}] * 1_000, buyer, shop)
    _peak_while_reading(client, API, headers)  # warm: compiled statements, translations
    rows_1k, peak_1k = _peak_while_reading(client, API, headers)
    _insert_cases([{}] * 4_000, buyer, shop, start=1_000)
    rows_5k, peak_5k = _peak_while_reading(client, API, headers)
    assert (rows_1k, rows_5k) == (1_000, 5_000)
    assert peak_5k < 1.5 * peak_1k, (peak_1k, peak_5k)


def test_the_cli_writes_the_same_csv(app, world, runner, tmp_path):
    out = tmp_path / "cases.csv"
    result = runner.invoke(args=["report", "cases", "--csv", "--phase", "closed", "--kind", "exchange",
                                 "--lang", "en", "-o", str(out)])
    assert result.exit_code == 0, result.output
    body = out.read_bytes()
    assert body.startswith(BOM)
    table = list(csv.reader(io.StringIO(body[len(BOM):].decode("utf-8"), newline="")))
    assert table[0][0] == "Case number" and [r[0] for r in table[1:]] == [world["n"]["exchange"]]
    result = runner.invoke(args=["report", "cases", "--csv", "--opened-from", "2026-03-01",
                                 "--opened-to", "2026-03-01"])
    assert result.exit_code == 0 and world["n"]["old"] in result.output and "案件编号" in result.output
    result = runner.invoke(args=["report", "cases", "--csv", "--phase", "open"])
    assert result.exit_code != 0 and "phase" in result.output
