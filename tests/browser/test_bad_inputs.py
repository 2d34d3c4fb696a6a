"""The issue-5 bad-input matrix through a real browser (generators: tests/badinputs.py).

One page load per medium; the bad inputs go in one after another in the same session. Each must give a clear
message (an ``st.error`` alert naming the file or the problem) and neither a Streamlit exception element nor
traceback text; the odd-but-valid inputs must run; and a plain valid input afterwards must still work.
Plus: ``client.showErrorDetails`` hides tracebacks, and a model that fails to load says so in its card.
"""
from __future__ import annotations

import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests import badinputs as bad

from . import (
    MAIN,
    MODEL_TIMEOUT_MS,
    ROOT,
    ScriptRuns,
    assert_no_exception,
    choose,
    error_alerts,
    grid_cells,
    main_text,
    open_page,
    plot_text,
    screenshot,
    select_only,
    set_slider_to_min,
    tab,
    wait_until,
)

CAT_CLASSES = re.compile(r"tabby|tiger cat|Egyptian cat")
LATENCY = '[data-testid="stMetric"]:has-text("Latency")'


def _write(tmp_path: Path, made: tuple[str, bytes]) -> Path:
    name, data = made
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _upload(page, runs: ScriptRuns, path: Path, index: int = 0) -> None:
    runs.do(lambda: page.locator(MAIN).locator("input[type=file]").nth(index).set_input_files(str(path)))


def _clear_error_for(page, needle: str, case: str) -> str:
    """The one st.error alert that mentions ``needle``; no exception element, no traceback."""
    matching = wait_until(page, lambda: [a for a in error_alerts(page) if needle in a],
                          f"an error alert mentioning {needle!r} ({case})", timeout=30_000)
    assert_no_exception(page, case)
    return matching[0]


def _run_button(page, name: str = "Run"):
    return page.locator(MAIN).get_by_role("button", name=name, exact=True)


# ---------------------------------------------------------------- configuration

def test_config_hides_error_details_from_users():  # no browser needed: runs in every suite
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] in ("none", False), config["client"]


# ---------------------------------------------------------------- images (Vision page)

@pytest.mark.browser
@pytest.mark.slow
def test_vision_bad_images_then_valid(page, app_url, tmp_path):
    runs = open_page(page, app_url + "/vision")
    select_only(page, "Models", "EfficientNet-Lite0")
    messages = {}
    for case, make in bad.IMAGE_ERRORS.items():
        path = _write(tmp_path, make())
        _upload(page, runs, path)
        messages[case] = _clear_error_for(page, f"'{path.name}'", case)
        assert _run_button(page).count() == 0, f"{case}: a Run button next to an input that was refused"
    assert "megapixels" in messages["huge_png"], messages["huge_png"]

    notes = {"animated_gif": "first frame", "cmyk_jpeg": "CMYK", "png_16bit": "rescaled to 8 bits"}
    for case, make in bad.IMAGE_ODD_BUT_VALID.items():
        path = _write(tmp_path, make())
        _upload(page, runs, path)
        assert not error_alerts(page), f"{case}: {error_alerts(page)}"
        if case in notes:
            assert notes[case] in main_text(page), f"{case}: no note saying '{notes[case]}'"
        runs.do(lambda: _run_button(page).click())
        page.locator(MAIN).locator(LATENCY).first.wait_for(timeout=MODEL_TIMEOUT_MS)
        assert not error_alerts(page), f"{case}: the model failed: {error_alerts(page)}"
        assert_no_exception(page, case)

    _upload(page, runs, ROOT / "data" / "images" / "chelsea.jpg")  # a plain photo still works
    runs.do(lambda: _run_button(page).click())
    wait_until(page, lambda: CAT_CLASSES.search(plot_text(page)), "a cat class after the bad inputs")
    assert not error_alerts(page)
    assert_no_exception(page, "chelsea after the matrix")
    screenshot(page, "bad-inputs-vision")


# ---------------------------------------------------------------- audio (Speech page)

@pytest.mark.browser
@pytest.mark.slow
def test_speech_bad_audio_then_valid(page, app_url, tmp_path):
    runs = open_page(page, app_url + "/speech")
    messages = {}
    for case, make in bad.AUDIO_ERRORS.items():
        path = _write(tmp_path, make())
        _upload(page, runs, path)
        messages[case] = _clear_error_for(page, f"'{path.name}'", case)
        assert _run_button(page, "Transcribe").count() == 0, case
    assert "ffmpeg" in messages["m4a_without_ffmpeg"], messages["m4a_without_ffmpeg"]
    assert "ms" in messages["very_short_audio"], messages["very_short_audio"]

    notes = {"stereo_48k": "mixed down to mono", "silence": "No speech detected", "mp3": ""}
    for case, make in bad.AUDIO_ODD_BUT_VALID.items():
        path = _write(tmp_path, make())
        _upload(page, runs, path)
        assert not error_alerts(page), f"{case}: {error_alerts(page)}"
        wait_until(page, lambda: re.search(r"s of audio · Silero VAD found \d+", main_text(page)),
                   f"{case}: the VAD line", timeout=60_000)  # a busy 2-core box can take a while
        select_only(page, "Models", "Whisper tiny.en (CTranslate2 int8)")  # the picker shows once audio is in
        if notes.get(case):
            assert notes[case] in main_text(page), f"{case}: no note saying '{notes[case]}'"
        runs.do(lambda: _run_button(page, "Transcribe").click())
        page.locator(MAIN).get_by_text("Transcripts", exact=True).wait_for(timeout=MODEL_TIMEOUT_MS)
        assert not error_alerts(page), f"{case}: the model failed: {error_alerts(page)}"
        assert_no_exception(page, case)

    _upload(page, runs, ROOT / "data" / "speech" / "clip01.wav")
    runs.do(lambda: _run_button(page, "Transcribe").click())
    transcript = page.locator(MAIN).locator("blockquote").first.inner_text().lower()
    assert "fox" in transcript and "dog" in transcript, transcript
    assert not error_alerts(page)
    screenshot(page, "bad-inputs-speech")


# ---------------------------------------------------------------- text (Text page)

@pytest.mark.browser
@pytest.mark.slow
def test_text_bad_text_then_valid(page, app_url, tmp_path):
    runs = open_page(page, app_url + "/text")
    runs.do(lambda: page.locator(MAIN).locator('[data-testid="stButtonGroup"]')
            .get_by_text("Language", exact=True).click(), timeout=30_000)
    area = page.locator(MAIN).locator('[data-testid="stTextArea"] textarea')

    def type_text(text: str) -> None:
        area.fill(text)
        runs.do(lambda: area.press("Control+Enter"), timeout=60_000)

    expected = {"empty_text": "empty", "whitespace_text": "empty", "long_text": "limit is 100,000"}
    for case, make in bad.TEXT_ERRORS.items():
        type_text(make()[1].decode("utf-8"))
        _clear_error_for(page, expected[case], f"typed {case}")
        assert _run_button(page).is_disabled(), f"{case}: Run is enabled with no valid text"

    for case, make in bad.TEXT_ERRORS.items():  # the same texts as .txt uploads
        path = _write(tmp_path, make())
        _upload(page, runs, path)
        _clear_error_for(page, path.name, f"uploaded {case}")

    for case, make in bad.TEXT_ODD_BUT_VALID.items():
        type_text(make()[1].decode("utf-8"))
        assert not error_alerts(page), f"{case}: {error_alerts(page)}"
        runs.do(lambda: _run_button(page).click())
        cells = wait_until(page, lambda: grid_cells(page), f"the language table ({case})", timeout=30_000)
        for language in bad.EXPECTED_LANGUAGES.get(case, []):
            assert any(cell.endswith(f"({language})") for cell in cells), f"{case}: {language!r} not in {cells}"
        assert_no_exception(page, case)

    runs.do(lambda: page.locator(MAIN).locator('[data-testid="stButtonGroup"]')
            .get_by_text("Similarity & search", exact=True).click(), timeout=30_000)
    runs.do(lambda: _run_button(page).click())  # the CJK lines through MiniLM: a heatmap, no crash
    page.locator(MAIN).get_by_text("Cosine similarity of sentence embeddings").wait_for(timeout=MODEL_TIMEOUT_MS)
    assert not error_alerts(page)
    assert_no_exception(page, "similarity on CJK text")
    screenshot(page, "bad-inputs-text")


# ---------------------------------------------------------------- evaluation sets (Compare page)

def _valid_image_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(ROOT / "data" / "images" / "chelsea.jpg", "tabby/chelsea.jpg")
        archive.write(ROOT / "data" / "images" / "coffee.jpg", "espresso/coffee.jpg")
    return path


@pytest.mark.browser
@pytest.mark.slow
def test_compare_bad_sets_then_valid(page, app_url, tmp_path):
    runs = open_page(page, app_url + "/compare")
    page.locator(MAIN).get_by_text("Measurement settings").click()
    set_slider_to_min(page, "Timed runs per model")
    set_slider_to_min(page, "Warm-up runs")

    choose(page, runs, "Task", "language-identification")
    select_only(page, "Models", "fastText language ID (lid.176.ftz)")
    runs.do(lambda: page.locator(MAIN).get_by_text("Upload my own", exact=True).click())
    path = _write(tmp_path, bad.csv_missing_columns())
    _upload(page, runs, path)
    message = _clear_error_for(page, f"'{path.name}'", "csv_missing_columns")
    assert "label" in message, message
    assert _run_button(page, "Run comparison").is_disabled()

    good = tmp_path / "my_languages.csv"
    good.write_text("text,label\nThe cat sleeps on the sofa.,en\nLe chat dort sur le canapé.,fr\n"
                    "Die Katze schläft auf dem Sofa.,de\n", encoding="utf-8")
    _upload(page, runs, good)
    page.locator(MAIN).get_by_text("3 labelled samples from my_languages.csv").wait_for()
    assert not error_alerts(page)
    runs.do(lambda: _run_button(page, "Run comparison").click(), timeout=3 * MODEL_TIMEOUT_MS)
    page.locator(f"{MAIN} .js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert not error_alerts(page), error_alerts(page)
    assert_no_exception(page, "language-identification with my own CSV")

    choose(page, runs, "Task", "image-classification")
    select_only(page, "Models", "EfficientNet-Lite0")
    if page.locator(MAIN).get_by_role("radio", name="Upload my own").is_checked() is False:
        runs.do(lambda: page.locator(MAIN).get_by_text("Upload my own", exact=True).click())
    path = _write(tmp_path, bad.zip_bomb())
    _upload(page, runs, path)
    message = _clear_error_for(page, f"'{path.name}'", "zip_bomb")
    assert "zip bomb" in message, message

    _upload(page, runs, _valid_image_zip(tmp_path / "my_photos.zip"))
    page.locator(MAIN).get_by_text("2 labelled samples from my_photos.zip").wait_for()
    runs.do(lambda: _run_button(page, "Run comparison").click(), timeout=3 * MODEL_TIMEOUT_MS)
    page.locator(f"{MAIN} .js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert not error_alerts(page), error_alerts(page)
    assert_no_exception(page, "image-classification with my own ZIP")
    screenshot(page, "bad-inputs-compare")


# ---------------------------------------------------------------- a model that fails: message, no traceback

@pytest.mark.browser
def test_failing_model_shows_a_message_not_a_traceback(page, app_url, tmp_path):
    """CLIP made 'ready' by a local folder whose config.json is garbage: loading it must fail in its card."""
    broken = tmp_path / "weights" / "openai__clip-vit-base-patch32"
    broken.mkdir(parents=True)
    (broken / "config.json").write_text("{ this is not json", encoding="utf-8")
    runs = open_page(page, app_url + "/multimodal")
    sidebar = page.locator('[data-testid="stSidebar"]')
    folder = sidebar.get_by_role("textbox", name="Folder with local weights (optional)")
    folder.fill(str(broken.parent))
    runs.do(lambda: folder.press("Enter"), timeout=60_000)
    tab(page, "Samples")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="chelsea", exact=True).click())
    select_only(page, "Models", "CLIP ViT-B/32")
    runs.do(lambda: _run_button(page).click())
    message = _clear_error_for(page, "CLIP", "broken CLIP weights")
    text = main_text(page)
    assert "Traceback" not in text and 'File "' not in text, text[-2000:]
    assert "CLIP ViT-B/32" in message and len(message) < 600, message
    screenshot(page, "failing-model")
    print(f"failing model message: {message}", file=sys.stderr)
