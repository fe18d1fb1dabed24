"""The mediator overview and the reason analysis in Chromium, on a phone and a desktop: charts drawn, figures
legible, nothing scrolls sideways, the filters work, and a bad date is named beside its field."""
from datetime import timedelta

import pytest

from app.auth.models import User
from app.cases.services import perform_action
from app.db_tx import transaction
from app.extensions import db
from app.timeutil import utcnow

from ..factories import make_user
from ..overview.helpers import H, closed, complaint, decided, request
from .conftest import DESKTOP, PHONE

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture
def history(ctx):
    """Six weeks of cases in two categories, two mediators (one with a long name), decisions and a queue."""
    now = utcnow()
    m1 = make_user("mediator", username="med-zhang")
    m2 = make_user("mediator", username="med-long")
    with transaction():
        db.session.get(User, m1.id).display_name = "张敏"
        db.session.get(User, m2.id).display_name = "欧阳·慕容·司马长名字调解员"
    home, toys = make_user("seller"), make_user("seller")
    reasons = ("not_received", "quality", "not_as_described", "damaged", "wrong_item", "quality", "not_received")
    for day in range(0, 42, 2):
        request(now - timedelta(days=day, hours=1), reason=reasons[day % len(reasons)], seller=home)
        if day % 3 == 0:
            closed(now - timedelta(days=day, hours=9), 7, category="toys", seller=toys, reason="damaged")
    for hours in (5, 30, 60):
        decided(now - timedelta(days=3, hours=hours), hours, m1, seller=toys, category="toys")
    decided(now - timedelta(days=1), 20, m2, seller=home, type="quality")
    complaint(now - H(3), seller=home)
    complaint(now - H(2), seller=toys, category="toys", type="quality")
    cid, *_ = complaint(now - H(30), seller=home)
    perform_action(cid, "assign", actor=m2, now=now - H(29))
    return m1


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_overview_and_analysis_pages(history, open_as, viewport):
    mediator = open_as(history, viewport=VIEWPORTS[viewport])
    mediator.go("/overview")
    assert mediator.page.locator("svg.chart").count() == 2
    assert mediator.page.locator("#queue-size").inner_text().startswith("2")
    assert mediator.page.locator("#workload tbody tr").count() == 2
    mediator.shot(f"overview-{viewport}")
    mediator.assert_fits()

    mediator.page.get_by_role("link", name="近 90 天").click()
    assert "trend=90" in mediator.path
    mediator.shot(f"overview-90-{viewport}", full_page=False)
    mediator.assert_fits()

    mediator.page.get_by_role("link", name="案件原因分析").click()
    mediator.assert_ok()
    assert mediator.path == "/analysis"
    assert mediator.page.locator("svg.chart").count() == 3
    mediator.shot(f"analysis-{viewport}")
    mediator.assert_fits()

    mediator.page.select_option("#filter-category", "toys")
    mediator.page.select_option("#filter-group", "month")
    with mediator.page.expect_navigation():
        mediator.page.get_by_role("button", name="显示").click()
    mediator.assert_ok()
    assert "category=toys" in mediator.path and "group=month" in mediator.path
    assert "未收到货" not in mediator.page.locator("#by-reason").inner_text()  # toys had only damaged goods
    mediator.shot(f"analysis-toys-{viewport}")
    mediator.assert_fits()
    with mediator.page.expect_download() as download:
        mediator.page.locator("#analysis-csv").click()
    assert download.value.suggested_filename.startswith("reasons-")

    mediator.go("/analysis?date_from=2026-02-30")
    assert mediator.page.locator("#filter-date_from-error").inner_text() == "请按 YYYY-MM-DD 的格式填写日期。"
    mediator.assert_fits()
