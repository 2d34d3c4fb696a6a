"""In a real browser: Vision's Explain method picker draws a Grad-CAM++ heatmap and its sanity check."""
from __future__ import annotations

import pytest

from . import (MAIN, assert_no_exception, error_alerts, open_page, screenshot, select_only, selectbox,
               selectbox_value, tab)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_vision_explain_with_grad_cam_plus_plus(page, app_url):
    runs = open_page(page, app_url + "/vision")
    select_only(page, "Models", "EfficientNet-Lite0")
    tab(page, "Samples")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="chelsea", exact=True).click())
    page.locator(MAIN).get_by_text("451×300").wait_for()
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click())
    method = selectbox(page, "Method").get_by_role("combobox")
    method.click()
    method.press("ArrowDown")  # here a click alone leaves this combobox closed
    runs.do(lambda: page.get_by_role("option", name="Grad-CAM++", exact=True).click(), timeout=60_000)
    assert selectbox_value(page, "Method") == "Grad-CAM++"
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Explain", exact=True).click())
    page.locator(MAIN).get_by_text("Grad-CAM++ (layer bn2) for").wait_for()
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Sanity check").click())
    page.locator(MAIN).get_by_text("Grad-CAM++: Spearman correlation of the two maps").wait_for()
    assert_no_exception(page, "/vision")
    assert not error_alerts(page)
    screenshot(page, "vision-explain-gradcam-plus-plus")
