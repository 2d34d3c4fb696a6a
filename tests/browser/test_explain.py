"""In a real browser: Vision's Explain view draws a heatmap and the sanity check; the stress test's
robustness curve draws a plotly chart."""
from __future__ import annotations

import pytest

from . import (
    MAIN,
    assert_no_exception,
    error_alerts,
    open_page,
    screenshot,
    select_only,
    tab,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_vision_explain_sanity_check_and_robustness_curve(page, app_url):
    runs = open_page(page, app_url + "/vision")
    select_only(page, "Models", "EfficientNet-Lite0")
    tab(page, "Samples")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="chelsea", exact=True).click())
    page.locator(MAIN).get_by_text("451×300").wait_for()
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click())
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Explain", exact=True).click())
    page.locator(MAIN).get_by_text("Grad-CAM (layer bn2) for").wait_for()
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Sanity check").click())
    page.locator(MAIN).get_by_text("Spearman correlation of the two maps").wait_for()
    assert page.locator(MAIN).get_by_text("random weights", exact=True).count() >= 1
    screenshot(page, "vision-explain")

    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Robustness curve").click())
    lines = wait_until(page, lambda: page.locator(f"{MAIN} .js-plotly-plot .scatterlayer .trace").count(),
                       "the robustness curve")
    assert lines >= 1
    assert_no_exception(page, "/vision")
    assert not error_alerts(page)
    screenshot(page, "vision-robustness")
