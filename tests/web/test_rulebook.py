from ..factories import make_user


def test_rule_book_shows_every_phase_with_its_tables_and_rules(client, ctx, login_as):
    login_as(make_user("mediator"))
    html = client.get("/workflows").get_data(as_text=True)
    for phase in ("negotiation", "complaint", "mediation", "resolution", "execution", "order"):
        assert f'id="{phase}"' in html
    assert "<svg" in html and "counter_offer" in html and "accept_by_silence" in html
    assert "requested_unshipped_hours</code> = 48 h" in html and "规则表" in html


def test_rule_book_needs_a_login(client):
    assert client.get("/workflows").status_code == 302


def test_rule_book_shows_configured_overrides(app, client, ctx, login_as):
    app.extensions.pop("tiaojie_rules", None)
    app.config["RULES"] = {"confirmation_hours": 24}
    try:
        login_as(make_user("buyer"))
        html = client.get("/workflows").get_data(as_text=True)
        assert "<code>confirmation_hours</code> = 24 h" in html
    finally:
        app.config["RULES"] = {}
        app.extensions.pop("tiaojie_rules", None)


def test_workflows_diagram_writes_an_svg_per_phase(runner, tmp_path):
    result = runner.invoke(args=["workflows", "diagram", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for phase in ("order", "negotiation", "complaint", "mediation", "resolution", "execution"):
        svg = (tmp_path / f"{phase}.svg").read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
