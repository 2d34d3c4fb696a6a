"""Runtimes in the browser: a Vision card on ONNX Runtime, and a Compare run with eager + ONNX rows."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from . import (
    MAIN,
    MODEL_TIMEOUT_MS,
    assert_no_exception,
    error_alerts,
    multiselect,
    open_page,
    plot_text,
    screenshot,
    select_only,
    set_slider_to_min,
    tab,
    wait_idle,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CAT_CLASSES = re.compile(r"tabby|tiger cat|Egyptian cat")


def test_vision_card_runs_on_onnx_runtime(page, app_url):
    runs = open_page(page, app_url + "/vision")
    select_only(page, "Models", "EfficientNet-Lite0")
    runs.do(lambda: page.locator(MAIN).get_by_text("ONNX Runtime fp32", exact=True).click())
    tab(page, "Samples")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="chelsea", exact=True).click())
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click(),
            timeout=2 * MODEL_TIMEOUT_MS)
    page.locator(MAIN).get_by_text(re.compile(r"runtime onnx ·")).first.wait_for()
    wait_until(page, lambda: CAT_CLASSES.search(plot_text(page)), "a cat class in the top-k chart")
    assert_no_exception(page, "/vision")
    assert not error_alerts(page)
    screenshot(page, "vision-onnx")


def test_compare_rows_per_runtime_with_speed_up_and_agreement(page, app_url):
    runs = open_page(page, app_url + "/compare")
    select_only(page, "Models", "EfficientNet-Lite0")
    box = multiselect(page, "Runtimes")
    box.get_by_role("combobox").first.click()
    page.get_by_role("option", name="ONNX Runtime fp32", exact=True).first.click()
    page.keyboard.press("Escape")
    wait_idle(page)
    page.locator(MAIN).get_by_text("Measurement settings").click()
    set_slider_to_min(page, "Timed runs per model")
    set_slider_to_min(page, "Warm-up runs")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run comparison").click(),
            timeout=4 * MODEL_TIMEOUT_MS)
    wait_until(page, lambda: "Speed-up over eager" in plot_text(page), "the runtimes chart")
    assert_no_exception(page, "/compare")
    assert not error_alerts(page)
    screenshot(page, "compare-runtimes")
    with page.expect_download() as download:
        page.locator(MAIN).get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [r["runtime"] for r in rows] == ["eager", "onnx"]
    assert rows[1]["agreement.basis"] == "top-1 match" and float(rows[1]["agreement.value"]) == 1.0
