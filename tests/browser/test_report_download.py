"""The one-file report, end to end: downloaded from Compare and from the Vision playground, then opened from
disk (file://) with every network route aborted: its charts draw, its photo shows, nothing is fetched."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import MAIN, MODEL_TIMEOUT_MS, SCREENSHOTS, open_page, select_only, set_slider_to_min, tab
from .network import CutNetwork

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAT_CLASSES = re.compile(r"tabby|tiger cat|Egyptian cat")
PLOT = ".js-plotly-plot .main-svg"


def download_report(page, tmp_path: Path) -> Path:
    with page.expect_download(timeout=60_000) as download:
        page.locator(MAIN).get_by_role("button", name="Download report").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(str(path))
    return path


def open_offline(browser, path: Path):
    """Open ``path`` from disk in a fresh context that can reach nothing: (page, network, context)."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    network = CutNetwork(context, allowed_host=None)
    page = context.new_page()
    network.watch(page)
    page.goto(path.as_uri(), wait_until="load")
    return page, network, context


def assert_charts_drawn(page, html: str) -> int:
    charts = html.count("Plotly.newPlot(")
    page.locator(PLOT).first.wait_for(state="visible", timeout=30_000)
    page.wait_for_function(f"document.querySelectorAll('{PLOT}').length >= {charts}", timeout=30_000)
    drawn = page.locator(".js-plotly-plot").count()
    assert drawn == charts >= 1, (drawn, charts)
    for i in range(drawn):  # each one really painted: an SVG with a size and marks (bars, points, lines)
        chart = page.locator(".js-plotly-plot").nth(i)
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100
        assert chart.locator("g.trace path").count() > 0
    return drawn


def test_compare_report_opens_offline_with_its_charts(page, browser, app_url, tmp_path):
    runs = open_page(page, app_url + "/compare")
    select_only(page, "Models", "EfficientNet-Lite0")
    page.locator(MAIN).get_by_text("Measurement settings").click()
    set_slider_to_min(page, "Timed runs per model")
    set_slider_to_min(page, "Warm-up runs")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run comparison").click(),
            timeout=3 * MODEL_TIMEOUT_MS)
    page.locator(f"{MAIN} {PLOT}").first.wait_for(timeout=30_000)
    path = download_report(page, tmp_path)
    assert path.name == "compare-image-classification.html"
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "EfficientNet-Lite0" in html

    report, network, context = open_offline(browser, path)
    try:
        drawn = assert_charts_drawn(report, html)
        report.get_by_role("heading", name="Results").wait_for()
        assert report.locator("table").first.get_by_text("EfficientNet-Lite0").count() >= 1
        assert report.locator("img").count() >= 1  # the evaluation samples, inline
        assert report.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        report.get_by_text("Chart data").first.click()  # the text alternative opens
        assert report.locator("details[open] table").count() == 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        report.screenshot(path=str(SCREENSHOTS / "report-compare.png"), full_page=True)
        assert network.seen and network.foreign == [], network.foreign
        assert all(url.startswith("file:") or url.startswith("data:") for url in network.seen), network.seen
        print(f"compare report: {path.stat().st_size / 2**20:.1f} MB, {drawn} charts, {len(network.seen)} requests")
    finally:
        context.close()


def test_vision_report_opens_offline_with_the_photo_and_the_top_classes(page, browser, app_url, tmp_path):
    runs = open_page(page, app_url + "/vision")
    select_only(page, "Models", "EfficientNet-Lite0")
    tab(page, "Samples")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="chelsea", exact=True).click())
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click())
    page.locator(MAIN).locator('[data-testid="stMetric"]').filter(has_text="Latency").first.wait_for()
    path = download_report(page, tmp_path)
    assert path.name == "vision-playground.html"
    html = path.read_text(encoding="utf-8")

    report, network, context = open_offline(browser, path)
    try:
        assert_charts_drawn(report, html)
        photo = report.locator("figure img").first
        assert photo.get_attribute("src").startswith("data:image/")
        assert photo.evaluate("i => i.complete && i.naturalWidth") == 320
        assert "chelsea.jpg" in report.locator("figure figcaption").first.inner_text()
        assert CAT_CLASSES.search(report.locator("main").inner_text())
        assert network.foreign == [] and all(u.startswith(("file:", "data:")) for u in network.seen)
    finally:
        context.close()
