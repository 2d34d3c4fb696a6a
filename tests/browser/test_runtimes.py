"""Runtimes in the browser: a Vision card on ONNX Runtime, a Compare run with eager + ONNX rows, and Cancel then
Resume of a Compare run."""
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
    compare_lite0_fast,
    error_alerts,
    main_text,
    open_page,
    plot_text,
    screenshot,
    select_only,
    start_app,
    stop_app,
    tab,
    wait_for_text,
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
    page.locator(MAIN).get_by_text(re.compile(r"on ONNX Runtime fp32 ·")).first.wait_for()
    wait_until(page, lambda: CAT_CLASSES.search(plot_text(page)), "a cat class in the top-k chart")
    assert_no_exception(page, "/vision")
    assert not error_alerts(page)
    screenshot(page, "vision-onnx")


def test_compare_rows_per_runtime_with_speed_up_and_agreement(page, app_url):
    runs = compare_lite0_fast(page, app_url, "ONNX Runtime fp32")
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


def test_cancel_then_resume_keeps_the_picker_current(browser, tmp_path):
    """The real race (Streamlit's fast reruns): Cancel, and the resume picker comes by itself; Resume, and it
    goes. A server of its own: the session server's history holds other tests' unfinished runs."""
    server = start_app(tmp_path, {"MODEL_EXPLORER_ONNX_DIR": str(tmp_path / "onnx"),
                                  "MODEL_EXPLORER_FEATURES_DIR": str(tmp_path / "features")})
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        compare_lite0_fast(page, server.base_url, "ONNX Runtime int8")
        page.locator(MAIN).get_by_role("button", name="Run comparison").click()
        page.locator(MAIN).get_by_role("button", name="Cancel").click(timeout=MODEL_TIMEOUT_MS)
        wait_for_text(page, "Run stopped before the end")
        wait_for_text(page, "Unfinished runs")  # no click in between: the page looked again by itself
        page.locator(MAIN).get_by_role("button", name="Resume").click()
        wait_for_text(page, "Done in", timeout=4 * MODEL_TIMEOUT_MS)
        wait_idle(page)
        assert "Unfinished runs" not in main_text(page)
        assert not page.locator(MAIN).get_by_role("button", name="Resume").count()
        assert_no_exception(page, "/compare")
    finally:
        context.close()
        stop_app(server)
