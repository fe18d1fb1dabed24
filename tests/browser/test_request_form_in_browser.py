"""The request form in the browser: after a refused submission the reason the buyer chose is still
chosen (the same reason code stands in several kinds' groups, and the script shows only the chosen
kind's group)."""
from ..factories import make_order


def test_a_refused_request_keeps_the_chosen_kind_and_reason(ctx, open_as):
    order, buyer, _ = make_order(state="delivered", price_fen=8_900)
    who = open_as(buyer)
    who.go(f"/orders/{order.id}")
    form = who.page.locator(f'form[action$="/orders/{order.id}/cases"]')
    form.locator('[name="case-kind"]').select_option("return_refund")
    quality = form.locator('[name="case-reason"] optgroup:not([disabled]) option[value="quality"]')
    form.locator('[name="case-reason"]').select_option(index=quality.evaluate("o => o.index"))
    form.locator('[name="case-amount"]').fill("999")
    with who.page.expect_navigation():
        form.locator("button[type=submit]").first.click()
    assert "¥89.00" in who.text()
    form = who.page.locator(f'form[action$="/orders/{order.id}/cases"]')
    assert form.locator('[name="case-kind"]').input_value() == "return_refund"
    assert form.locator('[name="case-reason"]').input_value() == "quality"
    assert form.locator('[name="case-amount"]').input_value() == "999"


def test_on_a_phone_a_refused_request_brings_its_problem_into_view(ctx, open_as):
    from .conftest import PHONE
    order, buyer, _ = make_order(state="delivered", price_fen=8_900)
    who = open_as(buyer, viewport=PHONE)
    who.go(f"/orders/{order.id}")
    form = who.page.locator(f'form[action$="/orders/{order.id}/cases"]')
    form.locator('[name="case-amount"]').fill("999")
    with who.page.expect_navigation():
        form.locator("button[type=submit]").first.click()
    error = who.page.locator(".has-error").first
    box = error.bounding_box()  # relative to the viewport
    assert box is not None and 0 <= box["y"] < who.page.viewport_size["height"], box
    assert who.page.evaluate("document.activeElement.name") == "case-amount"
