"""In a real browser: Vision's Explain method picker draws a Grad-CAM++ heatmap and its sanity check."""
from __future__ import annotations

import pytest

from . import MAIN, assert_no_exception, error_alerts, run_lite0_on_chelsea, screenshot, selectbox, selectbox_value

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_vision_explain_with_grad_cam_plus_plus(page, app_url):
    runs = run_lite0_on_chelsea(page, app_url)
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
