"""End-to-end in a real browser: every page opens cleanly, and each playground gives its expected answer."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from . import (
    MAIN,
    MODEL_TIMEOUT_MS,
    ROOT,
    assert_no_exception,
    error_alerts,
    grid_cells,
    open_page,
    plot_text,
    run_lite0_on_chelsea,
    screenshot,
    select_only,
    selectbox_value,
    set_slider_to_min,
    sidebar_nav,
    start_app,
    stop_app,
    wait_until,
)

pytestmark = pytest.mark.browser

DATA = ROOT / "data"
CAT_CLASSES = re.compile(r"tabby|tiger cat|Egyptian cat")
PAGES = [  # (path, heading, screenshot name)
    ("/", "Model Explorer", "home"),
    ("/catalog", "Model catalog", "catalog"),
    ("/vision", "Vision playground", "vision"),
    ("/text", "Text playground", "text"),
    ("/speech", "Speech playground", "speech"),
    ("/multimodal", "Multimodal playground", "multimodal"),
    ("/compare", "Compare models", "compare"),
]


@pytest.mark.parametrize(("path", "heading", "name"), PAGES, ids=[p[2] for p in PAGES])
def test_page_opens_without_exception(page, app_url, path, heading, name):
    open_page(page, app_url + path)
    page.locator(MAIN).get_by_role("heading", name=re.compile(re.escape(heading))).first.wait_for()
    assert_no_exception(page, path)
    assert "Playgrounds" in sidebar_nav(page), "the app's own navigation (st.navigation sections) is missing"
    screenshot(page, f"page-{name}")


def test_deep_link_on_a_fresh_server_shows_the_app_navigation(browser, tmp_path):
    """Regression: with a folder named pages/ beside st.navigation, Streamlit served the first deep links of a
    fresh server as MPA-v1 pages without app.py (sidebar 'app, catalog, …', no page config). Fixed by naming
    the folder app_pages/."""
    server = start_app(tmp_path / "fresh")
    try:
        context = browser.new_context()
        page = context.new_page()
        open_page(page, server.base_url + "/vision")  # the first session of this server opens a deep link
        assert_no_exception(page, "/vision")
        nav = sidebar_nav(page)
        context.close()
        assert "Playgrounds" in nav and "\napp\n" not in f"\n{nav}\n", nav
    finally:
        stop_app(server)


@pytest.mark.slow
def test_vision_sample_photo_gives_a_cat(page, app_url):
    run_lite0_on_chelsea(page, app_url)
    page.locator(MAIN).locator('[data-testid="stMetric"]').filter(has_text="Latency").first.wait_for()
    top = wait_until(page, lambda: CAT_CLASSES.search(plot_text(page)), "a cat class in the top-k chart")
    assert_no_exception(page, "/vision")
    assert not error_alerts(page)
    screenshot(page, "vision-result")
    print(f"vision: {top.group(0)}")


@pytest.mark.slow
def test_text_similarity_and_language(page, app_url):
    runs = open_page(page, app_url + "/text")
    sentences = ["A cat sleeps on the sofa.", "A kitten is napping on the couch.",
                 "The stock market fell sharply today.", "Le chat dort sur le canapé du salon."]
    area = page.locator(MAIN).locator('[data-testid="stTextArea"] textarea')
    area.fill("\n".join(sentences))
    runs.do(lambda: area.press("Control+Enter"), timeout=30_000)

    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click())
    page.locator(MAIN).get_by_text("Cosine similarity of sentence embeddings").wait_for()
    heatmap = wait_until(page, lambda: page.locator(f"{MAIN} .js-plotly-plot .main-svg").count(), "the heatmap")
    assert heatmap >= 1
    assert "Le chat dort" in plot_text(page)  # the sentences label the heatmap's axis
    screenshot(page, "text-similarity")

    runs.do(lambda: page.locator(MAIN).locator('[data-testid="stButtonGroup"]')
            .get_by_text("Language", exact=True).click(), timeout=30_000)
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click())
    cells = wait_until(page, lambda: "French (fr)" in grid_cells(page) and grid_cells(page),
                       "'French (fr)' in the language table")
    assert cells.count("English (en)") >= 3, cells
    assert_no_exception(page, "/text")
    assert not error_alerts(page)
    screenshot(page, "text-language")


@pytest.mark.slow
def test_speech_upload_gives_a_transcript(page, app_url):
    reference = "the quick brown fox jumps over the lazy dog"  # data/speech/transcripts.csv, clip01.wav
    runs = open_page(page, app_url + "/speech")
    runs.do(lambda: page.locator("input[type=file]").first.set_input_files(str(DATA / "speech" / "clip01.wav")))
    page.locator(MAIN).get_by_text(re.compile(r"Silero VAD found \d+ speech segment")).wait_for()
    select_only(page, "Models", "Whisper tiny.en (CTranslate2 int8)")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Transcribe").click())
    page.locator(MAIN).get_by_text("Transcripts", exact=True).wait_for()
    transcript = page.locator(MAIN).locator("blockquote").first.inner_text().lower()
    words = re.findall(r"[a-z]+", transcript)
    found = [w for w in reference.split() if w in words]
    assert len(found) >= 6, f"transcript {transcript!r} shares only {found} with {reference!r}"
    assert_no_exception(page, "/speech")
    assert not error_alerts(page)
    screenshot(page, "speech-transcript")


@pytest.mark.slow
def test_compare_draws_a_chart_and_downloads_csv(page, app_url):
    runs = open_page(page, app_url + "/compare")
    assert selectbox_value(page, "Task") == "image-classification"
    select_only(page, "Models", "EfficientNet-Lite0")
    page.locator(MAIN).get_by_text("Measurement settings").click()
    assert set_slider_to_min(page, "Timed runs per model") == "3"
    assert set_slider_to_min(page, "Warm-up runs") == "0"
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run comparison").click(),
            timeout=3 * MODEL_TIMEOUT_MS)
    page.locator(f"{MAIN} .js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert_no_exception(page, "/compare")
    assert not error_alerts(page)
    screenshot(page, "compare-result")

    with page.expect_download() as download:
        page.locator(MAIN).get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "compare-image-classification.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.splitlines()[0].split(",")
    for column in ("model_id", "model_name", "task", "weights", "n_samples", "metrics.top1", "latency_ms.p50",
                   "params", "device"):
        assert column in header, header
    assert len(rows) == 1 and rows[0]["model_id"] == "efficientnet_lite0", rows
    assert rows[0]["weights"] == "real" and float(rows[0]["latency_ms.p50"]) > 0
    assert 0.0 <= float(rows[0]["metrics.top1"]) <= 1.0
