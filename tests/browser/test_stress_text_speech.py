"""In a real browser: the Text page's stress test shows each model's answer before and after a perturbation and
draws the robustness curve; its attention view draws a token x token heatmap and the grid of every head."""
from __future__ import annotations

import pytest

from . import (
    MAIN,
    assert_no_exception,
    choose,
    error_alerts,
    grid_cells,
    open_page,
    plot_text,
    screenshot,
    select_only,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_text_stress_curve_and_attention(page, app_url):
    runs = open_page(page, app_url + "/text")
    area = page.locator(MAIN).locator('[data-testid="stTextArea"] textarea')
    area.fill("The film was wonderful and I love it.\nThis is a terrible, awful day.")
    runs.do(lambda: area.press("Control+Enter"), timeout=30_000)
    tools = page.locator(MAIN).locator('[data-testid="stButtonGroup"]')
    runs.do(lambda: tools.get_by_text("Sentiment", exact=True).click(), timeout=30_000)
    select_only(page, "Models", "VADER sentiment")
    choose(page, runs, "Perturbation", "negation")
    page.locator(MAIN).get_by_text("50% of the sentences negated").wait_for()

    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run on the perturbed input").click())
    cells = wait_until(page, lambda: "original answer" in page.locator(MAIN).locator(
        '[data-testid="stDataFrame"]').last.inner_html() and grid_cells(page), "the stress table")
    assert "VADER sentiment" in cells and "line 2" in cells, cells
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Robustness curve").click())
    wait_until(page, lambda: page.locator(f"{MAIN} .js-plotly-plot .scatterlayer .trace").count(),
               "the robustness curve")
    assert "negation strength" in plot_text(page)
    assert_no_exception(page, "/text")
    assert not error_alerts(page)
    screenshot(page, "text-stress")

    runs.do(lambda: tools.get_by_text("Attention", exact=True).click(), timeout=30_000)
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Show attention").click())
    wait_until(page, lambda: page.locator(f"{MAIN} .js-plotly-plot .heatmaplayer").count(), "the attention map")
    drawn = plot_text(page)
    assert "wonderful" in drawn and "[CLS]" in drawn, drawn
    screenshot(page, "text-attention")
    runs.do(lambda: tools.get_by_text("All heads", exact=True).click(), timeout=30_000)
    wait_until(page, lambda: "head 12" in plot_text(page), "the grid of heads")
    assert "layer 6" in plot_text(page)
    assert_no_exception(page, "/text")
    assert not error_alerts(page)
    screenshot(page, "text-attention-heads")
