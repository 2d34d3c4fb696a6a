"""In a real browser: Vision's Explain view draws a heatmap and the sanity check; the stress test's
robustness curve draws a plotly chart."""
from __future__ import annotations

import pytest

from . import (
    MAIN,
    assert_no_exception,
    error_alerts,
    run_lite0_on_chelsea,
    screenshot,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_vision_explain_sanity_check_and_robustness_curve(page, app_url):
    runs = run_lite0_on_chelsea(page, app_url)
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
