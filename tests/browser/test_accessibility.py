"""Keyboard and text alternatives in a real browser: on every playground, Tab reaches the file uploader (Enter
opens the file chooser) and the Run button; Vision is driven by keyboard alone from upload to result, and its
photo has a caption and each chart its data table."""
from __future__ import annotations

import re

import pytest

from . import MAIN, MODEL_TIMEOUT_MS, ROOT, assert_no_exception, error_alerts, open_page, select_only, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MOST_TABS = 150
FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const box = e.parentElement && e.parentElement.closest('[data-testid]');
  return {tag: e.tagName, text: (e.innerText || e.getAttribute('aria-label') || '').trim(),
          within: box ? box.dataset.testid : ''} }"""


def is_uploader(focused: dict) -> bool:
    return focused["tag"] == "BUTTON" and focused["within"] == "stFileUploaderDropzone"


def is_button(label: str):
    def match(focused: dict) -> bool:  # the text ends with the label (a Material icon's name comes first)
        return focused["tag"] == "BUTTON" and focused["text"].splitlines()[-1:] == [label]
    return match


def tab_to(page, wanted, what: str) -> int:
    """Press Tab until the focused element is ``wanted``; the number of presses (fails after MOST_TABS)."""
    for presses in range(1, MOST_TABS + 1):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused and wanted(focused):
            return presses
    raise AssertionError(f"Tab never reached {what} in {MOST_TABS} presses")


def open_with_file_chooser(page, url: str):
    """Open ``url`` with Playwright catching the page's file chooser from the start (turned on lazily by
    ``expect_file_chooser`` alone, it raced the key press and missed about one chooser in three)."""
    page.on("filechooser", lambda chooser: None)
    return open_page(page, url)


def upload_by_keyboard(page, runs, path) -> None:
    """Tab to the uploader, open the file chooser with Enter, give it ``path``."""
    wait_idle(page)
    tab_to(page, is_uploader, "the file uploader")
    with page.expect_file_chooser(timeout=10_000) as chooser:
        page.keyboard.press("Enter")
    runs.do(lambda: chooser.value.set_files(str(path)))


PLAYGROUNDS = [  # (path, a file to upload, the Run button's label)
    ("/text", ROOT / "data" / "text" / "samples.txt", "Run"),
    ("/speech", ROOT / "data" / "speech" / "clip01.wav", "Transcribe"),
    ("/multimodal", ROOT / "data" / "images" / "coffee.jpg", "Run"),
]


@pytest.mark.parametrize(("path", "upload", "run"), PLAYGROUNDS, ids=[p[0].strip("/") for p in PLAYGROUNDS])
def test_tab_reaches_the_uploader_and_the_run_button(page, app_url, path, upload, run):
    runs = open_with_file_chooser(page, app_url + path)
    upload_by_keyboard(page, runs, upload)
    assert_no_exception(page, path)
    assert not error_alerts(page), error_alerts(page)
    tab_to(page, is_button(run), f"the {run} button")


def test_vision_from_upload_to_result_by_keyboard_alone_with_text_alternatives(page, app_url):
    runs = open_with_file_chooser(page, app_url + "/vision")
    select_only(page, "Models", "EfficientNet-Lite0")  # one model: the run stays short
    page.evaluate("document.activeElement && document.activeElement.blur()")
    upload_by_keyboard(page, runs, ROOT / "data" / "images" / "chelsea.jpg")
    caption = page.locator(MAIN).locator('[data-testid="stImageCaption"]').first
    assert re.search(r"chelsea\.jpg .* 451×300", caption.inner_text()), caption.inner_text()

    tab_to(page, is_button("Run"), "the Run button")
    runs.do(lambda: page.keyboard.press("Enter"), timeout=MODEL_TIMEOUT_MS)
    page.locator(MAIN).locator('[data-testid="stMetric"]').filter(has_text="Latency").first.wait_for()
    assert_no_exception(page, "/vision")

    expander = page.locator(MAIN).locator('[data-testid="stExpander"]').filter(has_text="Chart data").first
    tab_to(page, lambda f: f["tag"] == "SUMMARY" and "Chart data" in f["text"], "the chart's data")
    page.keyboard.press("Enter")
    wait_idle(page)
    table = expander.locator('[data-testid="stTable"] table')
    table.wait_for()
    cells = table.locator("td").all_inner_texts()
    assert any(re.search(r"tabby|tiger cat|Egyptian cat", c) for c in cells), cells
    assert table.locator("th").filter(has_text="value").count() == 1
