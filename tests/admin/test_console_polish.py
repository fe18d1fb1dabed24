"""The console reads like a product (issue 13, new-user review): rules by human name with an explanation, a
truthful message after saving a rule, a readable audit log, the one-time password on a GET page."""
import pytest

from app.labels import LABELS
from workflows.rules import DEFAULTS

from ..factories import make_user
from .test_admin_pages import csrf


@pytest.fixture
def admin_client(ctx, client, login_as):
    login_as(make_user("admin"))
    return client


def test_every_rule_has_a_name_and_an_explanation():
    """A new rule without its label fails here."""
    assert set(DEFAULTS) - set(LABELS["rule"]) == set()
    assert set(DEFAULTS) - set(LABELS["rule_help"]) == set()


def test_rules_pages_show_the_human_name_with_the_key(admin_client):
    html = admin_client.get("/admin/rules").get_data(as_text=True)
    assert "卖家已发货时的处理时限" in html and "requested_shipped_hours" in html
    assert "退款原因（只读）" in html
    page = admin_client.get("/admin/rules/requested_shipped_hours").get_data(as_text=True)
    assert "卖家已发货时的处理时限" in page and "卖家在此期间不处理，系统自动同意退款" in page
    book = admin_client.get("/workflows").get_data(as_text=True)
    assert "卖家已发货时的处理时限" in book


def _save(client, key, value):
    token = csrf(client, f"/admin/rules/{key}")
    response = client.post(f"/admin/rules/{key}", data={"rule-csrf_token": token, "rule-value": value,
                                                        "rule-reason": "调整"}, follow_redirects=True)
    return response.get_data(as_text=True)


def test_saving_a_deadline_rule_says_running_deadlines_stay(admin_client):
    assert "已设定的时限保持不变" in _save(admin_client, "mediation_queue_hours", "36")


def test_saving_another_rule_says_the_value_applies(admin_client):
    html = _save(admin_client, "max_modifications", "4")
    assert "新取值已生效" in html and "已设定的时限保持不变" not in html


def test_overview_names_its_window_rule(ctx, client, login_as):
    login_as(make_user("mediator"))
    html = client.get("/overview").get_data(as_text=True)
    assert "规则表：概览统计窗口" in html and "overview_window_days" not in html
