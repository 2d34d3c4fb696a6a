"""AppTest for the four playgrounds (issue 3) and their bad-input matrix (issue 5, AppTest half).

One AppTest per page, shared by that page's tests (module scope): the bad-input tests then also prove that the
next valid input works *in the same session*. Models load once per process, so only the first run of each
model is slow.
"""
from __future__ import annotations

import csv
import io
import json
import mimetypes
import re
import time
from pathlib import Path

import badinputs as bad
import pytest
from streamlit.testing.v1 import AppTest

from components.core.scoring import word_error_rate

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
DATA = ROOT / "data"
TIMEOUT = 180  # first use loads torch and the models
CAT_CLASSES = {"tabby, tabby cat", "tiger cat", "Persian cat", "Siamese cat, Siamese", "Egyptian cat"}
CLIP01 = "the quick brown fox jumps over the lazy dog"
WHISPER = "whisper_tiny_en_ct2"


# ---------------------------------------------------------------- helpers

def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page)
    at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest, errors_allowed: bool = False) -> None:
    """No exception element; and no error element unless the test expects one."""
    assert not at.exception, [e.value for e in at.exception]
    if not errors_allowed:
        assert not at.error, [e.value for e in at.error]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def cards(at: AppTest) -> int:
    """Result cards that hold a result (each shows one Latency metric)."""
    return sum(m.label == "Latency" for m in at.metric)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def top_label(spec: dict) -> str:
    bars = spec["data"][0]
    return bars["y"][max(range(len(bars["x"])), key=bars["x"].__getitem__)]


def upload(at: AppTest, key: str, name: str, data: bytes) -> AppTest:
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    at.file_uploader(key=key).set_value((name, data, mime))
    at.run()
    return at


def _has(at: AppTest, key: str) -> bool:
    """Whether the page shows a button with this key (Run buttons appear only with a valid input)."""
    return any(b.key == key for b in at.button)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    at.run()
    return at


def choose(at: AppTest, key: str, ids: list[str]) -> None:
    at.multiselect(key=key).set_value(ids)
    at.run()


def transcripts(at: AppTest) -> dict[str, str]:
    """Card title -> the transcript quoted under it (speech page)."""
    found, title = {}, None
    for md in at.markdown:
        if md.value.startswith("#### "):
            title = md.value[5:]
        elif md.value.startswith("> ") and title:
            found[title] = md.value[2:]
    return found


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


# ---------------------------------------------------------------- one AppTest per page

@pytest.fixture(scope="module")
def vision() -> AppTest:
    return open_page("app_pages/vision.py")


@pytest.fixture(scope="module")
def text() -> AppTest:
    return open_page("app_pages/text.py")


@pytest.fixture(scope="module")
def speech() -> AppTest:
    return open_page("app_pages/speech.py")


@pytest.fixture(scope="module")
def multimodal() -> AppTest:
    return open_page("app_pages/multimodal.py")


# ---------------------------------------------------------------- Vision

def classify(at: AppTest, models: list[str]) -> list[dict]:
    """Image-classification task with ``models`` on the current input; the top-5 chart specs."""
    at.radio(key="keep_vision_task").set_value("Image classification (ImageNet-1k)")
    at.run()
    choose(at, "keep_vision_models_image-classification", models)
    click(at, "vision_run")
    assert_clean(at)
    assert cards(at) == len(models)
    return charts(at)


def test_vision_sample_cat_gives_cat_class(vision):
    click(vision, "vision_input_sample_chelsea.jpg")
    assert_clean(vision)
    specs = classify(vision, ["efficientnet_lite0"])
    assert len(specs) == 1
    labels = specs[0]["data"][0]["y"]
    assert len(labels) == 5
    assert top_label(specs[0]) in CAT_CLASSES, labels
    assert len([m for m in vision.metric if m.label == "Device"]) == 1


def test_vision_two_models_two_cards(vision):
    click(vision, "vision_input_sample_chelsea.jpg")
    specs = classify(vision, ["efficientnet_lite0", "efficientnet_lite2"])
    assert len(specs) == 2
    assert all(top_label(spec) in CAT_CLASSES for spec in specs), [top_label(s) for s in specs]
    assert len([m for m in vision.markdown if m.value.startswith("#### ")]) == 2


def test_vision_select_all_then_new_sample_keeps_working(vision):
    """'Select all' picks every runnable model (one card each); later reruns and samples still work.

    Note: the old 'keep_…_all' button-key bug (keep_widget_state re-assigning a button's value) does not
    reproduce under AppTest, only in a real browser session: the browser tests must click 'Select all'.
    """
    click(vision, "vision_input_sample_coffee.jpg")
    vision.radio(key="keep_vision_task").set_value("Image classification (ImageNet-1k)")
    vision.run()
    options = vision.multiselect(key="keep_vision_models_image-classification").options
    assert len(options) >= 2
    click(vision, "select_all_keep_vision_models_image-classification")
    assert_clean(vision)
    assert len(vision.multiselect(key="keep_vision_models_image-classification").value) == len(options)
    click(vision, "vision_run")
    assert_clean(vision)
    assert cards(vision) == len(options)
    click(vision, "vision_input_sample_chelsea.jpg")  # a new input after 'Select all': no widget-state error
    assert_clean(vision)
    assert cards(vision) == 0  # the old results belonged to the old input


def test_vision_ocr_reads_sample_text(vision):
    click(vision, "vision_input_sample_ocr_sample.png")
    vision.radio(key="keep_vision_task").set_value("Read text (OCR)")
    vision.run()
    choose(vision, "keep_vision_models_ocr", ["rapidocr_ppocrv4"])
    click(vision, "vision_run")
    assert_clean(vision)
    assert cards(vision) == 1
    table = vision.dataframe[0].value
    read = " ".join(table["text"])
    expected = (DATA / "images" / "ocr_sample.txt").read_text(encoding="utf-8")
    assert word_error_rate([expected], [read]) < 0.2, read


IMAGE_ERROR_MESSAGES = {
    "truncated_png": "damaged or truncated",
    "text_named_jpg": "not an image",
    "empty_file": "empty (0 bytes)",
    "huge_png": "megapixels",
    "thin_png": "aspect ratio limit",
}


@pytest.mark.parametrize("case", sorted(bad.IMAGE_ERRORS))
def test_vision_bad_image_gives_clear_error_then_recovers(vision, case):
    name, data = bad.IMAGE_ERRORS[case]()
    upload(vision, "vision_input_upload", name, data)
    assert_clean(vision, errors_allowed=True)
    messages = errors(vision)
    assert len(messages) == 1, messages
    assert name in messages[0] and IMAGE_ERROR_MESSAGES[case] in messages[0], messages
    assert "Traceback" not in messages[0]
    assert not _has(vision, "vision_run")
    assert cards(vision) == 0  # no stale results from a previous input
    # the next valid input works in the same session
    click(vision, "vision_input_sample_chelsea.jpg")
    assert_clean(vision)
    assert top_label(classify(vision, ["efficientnet_lite0"])[0]) in CAT_CLASSES


IMAGE_NOTES = {
    "animated_gif": "first frame",
    "cmyk_jpeg": "CMYK image converted to RGB",
    "png_16bit": "rescaled to 8 bits",
    "one_pixel": None,
}


@pytest.mark.parametrize("case", sorted(bad.IMAGE_ODD_BUT_VALID))
def test_vision_odd_image_works_with_a_note(vision, case):
    name, data = bad.IMAGE_ODD_BUT_VALID[case]()
    upload(vision, "vision_input_upload", name, data)
    assert_clean(vision)
    if IMAGE_NOTES[case]:
        assert IMAGE_NOTES[case] in captions(vision)
    specs = classify(vision, ["efficientnet_lite0"])
    if case != "one_pixel":  # these are the cat photo in another container
        assert top_label(specs[0]) in CAT_CLASSES, (case, specs[0]["data"][0]["y"])


def test_huge_png_is_tiny_on_disk_and_refused_from_its_header(monkeypatch):
    from PIL import Image, ImageFile

    from components.core.inputs import InputError, load_image

    name, data = bad.huge_png()
    assert len(data) < 100_000
    assert Image.open(io.BytesIO(data)).size == (8000, 7500)

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"60 megapixels; the limit is 50"):
        load_image(data, name)
    assert time.perf_counter() - started < 2


# ---------------------------------------------------------------- Text

TOOLS = {"sentence-similarity": "Similarity & search", "zero-shot-classification": "Zero-shot labels",
         "language-identification": "Language", "sentiment-analysis": "Sentiment"}


def set_text(at: AppTest, value: str) -> None:
    at.text_area(key="keep_text_input").set_value(value)
    at.run()


def run_text(at: AppTest, task: str, models: list[str] | None = None) -> None:
    at.segmented_control(key="keep_text_tool").set_value(TOOLS[task])
    at.run()
    if models is not None:
        choose(at, f"keep_text_models_{task}", models)
    click(at, f"run_{task}")
    assert_clean(at)


def language_rows(at: AppTest) -> list[tuple[str, str]]:
    """(text, language code) per row; the table shows 'French (fr)', or the bare code when unnamed."""
    table = at.dataframe[0].value
    codes = [re.search(r"\(([^()]+)\)$", shown) for shown in table["language"]]
    return list(zip(table["text"], [m.group(1) if m else shown for m, shown in zip(codes, table["language"])]))


def test_text_french_sentence_is_fr(text):
    set_text(text, "Le train pour Lyon part dans dix minutes.")
    run_text(text, "language-identification", ["fasttext_lid176"])
    assert cards(text) == 1
    assert language_rows(text) == [("Le train pour Lyon part dans dix minutes.", "fr")]
    assert list(text.dataframe[0].value["language"]) == ["French (fr)"]


def test_text_multilingual_samples_are_identified(text):
    next(b for b in text.button if b.label == "Multilingual samples").click()
    text.run()
    run_text(text, "language-identification", ["fasttext_lid176"])
    with open(DATA / "text" / "languages.csv", encoding="utf-8") as handle:
        expected = {row["text"]: row["label"] for row in csv.DictReader(handle)}
    rows = language_rows(text)
    assert len(rows) >= 5
    wrong = [(t, lang) for t, lang in rows if expected[t] != lang]
    assert not wrong, wrong


def test_text_similarity_cards_and_heatmap(text):
    set_text(text, "The cat is sleeping on the sofa.\nA kitten is napping on the couch.\n"
                   "The stock market fell sharply this morning.")
    text.segmented_control(key="keep_text_tool").set_value(TOOLS["sentence-similarity"])
    text.run()
    picker = text.multiselect(key="keep_text_models_sentence-similarity")
    runnable = list(picker.options)
    assert "all-MiniLM-L6-v2" in runnable  # the offline one
    # every model that can run here, one card each (offline that is MiniLM alone: 'Select all' is disabled)
    select_all = text.button(key="select_all_keep_text_models_sentence-similarity")
    assert select_all.disabled == (len(runnable) < 2)
    if not select_all.disabled:
        click(text, "select_all_keep_text_models_sentence-similarity")
    assert len(text.multiselect(key="keep_text_models_sentence-similarity").value) == len(runnable)
    text.text_input(key="keep_text_query").set_value("a cat resting on furniture")
    text.run()
    click(text, "run_sentence-similarity")
    assert_clean(text)
    assert cards(text) == len(runnable)
    specs = charts(text)
    heatmaps = [s for s in specs if s["data"][0]["type"] == "heatmap"]
    assert len(heatmaps) == len(runnable)
    matrix = heatmaps[0]["data"][0]["z"]
    assert matrix[0][1] > 0.5 > matrix[0][2]  # cat ~ kitten, not the stock market
    ranking = next(s for s in specs if s["data"][0]["type"] == "bar")
    assert "cat" in top_label(ranking).lower() or "kitten" in top_label(ranking).lower()


def test_text_similarity_why_names_the_drawn_colours_and_a_new_query_is_noted(text):
    set_text(text, "The cat is sleeping on the sofa.\nA kitten is napping on the couch.")
    text.segmented_control(key="keep_text_tool").set_value(TOOLS["sentence-similarity"])
    text.text_input(key="keep_text_query").set_value("a cat resting")
    text.run()
    run_text(text, "sentence-similarity", ["all_minilm_l6_v2"])
    assert "changed since this run" not in captions(text)
    click(text, "explain_text_sentence-similarity_all_minilm_l6_v2")
    assert_clean(text)
    why = next(c.value for c in text.caption if "similarity of lines 1 and 2 drops" in c.value)
    assert "Blue supports the answer, vermillion opposes it" in why and "blue: it carries the similarity" in why
    assert "green" not in why.lower()  # the chips are blue and vermillion (explain_view.token_chips)
    text.text_input(key="keep_text_query").set_value("the stock market")
    text.run()
    assert "The query changed since this run: press Run to refresh." in captions(text)
    assert cards(text) == 1  # the earlier cards stay, marked as stale
    text.text_input(key="keep_text_query").set_value("a cat resting")
    text.run()
    assert "changed since this run" not in captions(text)


def test_attention_says_vader_has_none_on_any_runtime(text):
    set_text(text, "What a wonderful day.")
    text.segmented_control(key="keep_text_tool").set_value("Attention")
    text.run()
    text.selectbox(key="keep_attention_model").set_value("vader")
    text.segmented_control(key="keep_attention_runtime").set_value("onnx")
    text.run()
    click(text, "attention_run")
    assert_clean(text)
    infos = [i.value for i in text.info]
    assert any("VADER sentiment is not a transformer" in i for i in infos), infos
    assert not any("returns no attention weights" in i for i in infos), infos  # not the runtime's fault
    text.segmented_control(key="keep_attention_runtime").set_value("eager")  # the module's page, as it was
    text.run()


def test_text_zero_shot_labels(text):
    set_text(text, "I scored two goals in the football match.\nThis soup needs more salt and pepper.\n"
                   "Heavy rain and strong wind are expected tomorrow.")
    text.segmented_control(key="keep_text_tool").set_value(TOOLS["zero-shot-classification"])
    text.run()
    text.text_input(key="keep_text_labels").set_value("sports, food, weather")
    text.run()
    run_text(text, "zero-shot-classification", ["all_minilm_l6_v2"])
    assert cards(text) == 1
    answers = [re.match(r"\*\*(.+?)\*\* \(", m.value) for m in text.markdown]
    assert [a.group(1) for a in answers if a] == ["sports", "food", "weather"]


def test_text_sentiment_vader(text):
    set_text(text, "I love this wonderful, happy day!\nThis is terrible, I hate it.")
    run_text(text, "sentiment-analysis", ["vader"])
    assert cards(text) == 1
    table = text.dataframe[0].value
    assert [s.split()[-1] for s in table["sentiment"]] == ["positive", "negative"]


@pytest.mark.parametrize("tokenizer, marker", [("WordPiece", "##"), ("Byte-level BPE", "Ġ")])
def test_text_tokenizer_view(text, tokenizer, marker):
    set_text(text, "Tokenization is unbelievably useful")
    text.segmented_control(key="keep_text_tool").set_value("Tokenizer view")
    text.run()
    box = text.selectbox(key="keep_text_tokenizer")
    box.set_value(next(o for o in box.options if o.startswith(tokenizer)))
    text.run()
    assert_clean(text)
    summary = next(m.value for m in text.markdown if m.value.startswith("First line"))
    count = int(re.search(r"\*\*(\d+) tokens\*\*", summary).group(1))
    assert 4 <= count <= 15
    body = text.get("html")[0].proto.body
    assert marker in body and body.count("<span") == count


TEXT_ERROR_MESSAGES = {"empty_text": "empty", "whitespace_text": "empty", "long_text": "200,000 characters"}


@pytest.mark.parametrize("case", sorted(bad.TEXT_ERRORS))
def test_text_bad_text_gives_clear_error_then_recovers(text, case):
    _, data = bad.TEXT_ERRORS[case]()
    text.segmented_control(key="keep_text_tool").set_value(TOOLS["language-identification"])
    text.run()
    set_text(text, data.decode("utf-8"))
    assert_clean(text, errors_allowed=True)
    messages = errors(text)
    assert len(messages) == 1 and TEXT_ERROR_MESSAGES[case] in messages[0], messages
    assert text.button(key="run_language-identification").disabled
    assert cards(text) == 0
    set_text(text, "Le train pour Lyon part dans dix minutes.")
    run_text(text, "language-identification", ["fasttext_lid176"])
    assert language_rows(text)[0][1] == "fr"


@pytest.mark.parametrize("case", sorted(bad.TEXT_ERRORS))
def test_text_bad_txt_upload_gives_clear_error_then_recovers(text, case):
    set_text(text, "Hello there, how are you?")
    name, data = bad.TEXT_ERRORS[case]()
    upload(text, "text_upload", name, data)
    assert_clean(text, errors_allowed=True)
    messages = errors(text)
    assert len(messages) == 1 and TEXT_ERROR_MESSAGES[case] in messages[0] and name in messages[0], messages
    assert text.text_area(key="keep_text_input").value == "Hello there, how are you?"  # text kept
    # removing the refused file clears its message; a good file then replaces the text
    text.file_uploader(key="text_upload").set_value(None)
    text.run()
    assert_clean(text)
    upload(text, "text_upload", *bad.cjk_text())
    assert_clean(text)
    assert text.text_area(key="keep_text_input").value.startswith("今天")


def test_text_typing_clears_a_refused_upload_message(text):
    upload(text, "text_upload", *bad.empty_text())
    assert len(errors(text)) == 1
    set_text(text, "Typed instead.")
    assert_clean(text)


@pytest.mark.parametrize("case", sorted(bad.TEXT_ODD_BUT_VALID))
def test_text_emoji_rtl_cjk_work(text, case):
    _, data = bad.TEXT_ODD_BUT_VALID[case]()
    value = data.decode("utf-8")
    set_text(text, value)
    assert_clean(text)
    run_text(text, "language-identification", ["fasttext_lid176"])
    rows = language_rows(text)
    assert [t for t, _ in rows] == [line.strip() for line in value.splitlines()]
    expected = bad.EXPECTED_LANGUAGES.get(case, ["en"] * len(rows))
    assert [lang for _, lang in rows] == expected
    run_text(text, "sentence-similarity", ["all_minilm_l6_v2"])
    assert cards(text) == 1
    run_text(text, "sentiment-analysis", ["vader"])
    assert cards(text) == 1


# ---------------------------------------------------------------- Speech

def transcribe(at: AppTest, models: list[str]) -> dict[str, str]:
    choose(at, "keep_speech_models", models)
    click(at, "speech_run")
    assert_clean(at)
    assert cards(at) == len(models)
    return transcripts(at)


def vad_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "Silero VAD found" in m.value)


def test_speech_sample_two_models_transcript_and_vad(speech):
    click(speech, "speech_input_sample_clip01.wav")
    assert_clean(speech)
    segments = int(re.search(r"found \*\*(\d+)\*\* speech segment", vad_line(speech)).group(1))
    assert segments >= 1
    wave = charts(speech)[0]
    assert len(wave["layout"].get("shapes", [])) == segments  # the segments are drawn on the waveform
    with open(DATA / "speech" / "transcripts.csv", encoding="utf-8") as handle:
        reference = next(r["transcript"] for r in csv.DictReader(handle) if r["file"] == "clip01.wav")
    assert f"“{reference}”" in captions(speech)
    found = transcribe(speech, [WHISPER, "pocketsphinx_en_us"])
    assert len(found) == 2
    whisper = next(t for name, t in found.items() if "Whisper" in name)
    assert word_error_rate([reference], [whisper]) < 0.3, whisper
    assert "Real-time factor" in captions(speech) and "WER" in captions(speech)


def test_speech_cards_name_the_engine_that_ran_not_pytorch_eager(speech):
    """Bug: faster-whisper's card said "runtime eager" (PyTorch's word) though CTranslate2 ran it; results keep
    the runtime's name (Compare rows, the result cache)."""
    click(speech, "speech_input_sample_clip01.wav")
    transcribe(speech, [WHISPER, "pocketsphinx_en_us"])
    text = captions(speech)
    assert "on CTranslate2 ·" in text and "on PocketSphinx ·" in text and "PyTorch eager" not in text, text
    assert {card.result.runtime for card in speech.session_state["speech_input_results"]} == {"eager"}


AUDIO_ERROR_MESSAGES = {
    "hires_flac": "sample rate of 655,350 Hz",
    "very_short_audio": "at least 100 ms",
    "corrupt_wav_header": "not audio this app can decode",
    "m4a_without_ffmpeg": "ffmpeg",
    "empty_file": "empty (0 bytes)",
    "text_named_wav": "not audio this app can decode",
}


@pytest.mark.parametrize("case", sorted(bad.AUDIO_ERRORS))
def test_speech_bad_audio_gives_clear_error_then_recovers(speech, case):
    name, data = bad.AUDIO_ERRORS[case]()
    upload(speech, "speech_input_upload", name, data)
    assert_clean(speech, errors_allowed=True)
    messages = errors(speech)
    assert len(messages) == 1, messages
    assert name in messages[0] and AUDIO_ERROR_MESSAGES[case] in messages[0], messages
    assert "<_io." not in messages[0] and "Traceback" not in messages[0]  # no Python internals
    assert not _has(speech, "speech_run") and cards(speech) == 0
    click(speech, "speech_input_sample_clip01.wav")
    assert_clean(speech)
    found = transcribe(speech, [WHISPER])
    assert word_error_rate([CLIP01], list(found.values())) < 0.3


AUDIO_EXPECTED = {  # notes shown, whether VAD warns of no speech, whether the words must come through
    "short_audio_100ms": ([], True, False),
    "silence": (["silent"], True, False),
    "stereo_48k": (["2 channels mixed down to mono", "resampled from 48000 Hz to 16000 Hz"], False, True),
    "wav_8bit": ([], False, True),
    "mp3": ([], False, True),
}


@pytest.mark.parametrize("case", sorted(bad.AUDIO_ODD_BUT_VALID))
def test_speech_odd_audio_works_with_a_note(speech, case):
    notes, warns, words = AUDIO_EXPECTED[case]
    name, data = bad.AUDIO_ODD_BUT_VALID[case]()
    upload(speech, "speech_input_upload", name, data)
    assert_clean(speech)
    for note in notes:
        assert note in captions(speech)
    warnings = [w.value for w in speech.warning]
    assert any("No speech detected" in w for w in warnings) == warns, warnings
    found = transcribe(speech, [WHISPER])
    if words:
        assert word_error_rate([CLIP01], list(found.values())) < 0.3, found


# ---------------------------------------------------------------- Multimodal

def test_multimodal_conse_labels_cat(multimodal):
    click(multimodal, "multimodal_input_sample_chelsea.jpg")
    multimodal.segmented_control(key="keep_mm_tool").set_value("Zero-shot labels")
    multimodal.run()
    assert multimodal.text_input(key="keep_mm_labels").value.startswith("cat, dog")
    choose(multimodal, "keep_mm_models", ["conse_effnet_minilm"])
    click(multimodal, "mm_run")
    assert_clean(multimodal)
    assert cards(multimodal) == 1
    assert top_label(charts(multimodal)[0]) == "cat"
    assert "Evidence (ImageNet classes)" in captions(multimodal)
    assert "changed since this run" not in captions(multimodal)
    labels = multimodal.text_input(key="keep_mm_labels").value
    multimodal.text_input(key="keep_mm_labels").set_value("cat, dog, teapot").run()
    assert "The labels changed since this run: press Run to refresh." in captions(multimodal)
    assert cards(multimodal) == 1  # the earlier card stays, marked as stale
    multimodal.text_input(key="keep_mm_labels").set_value(labels).run()
    assert "changed since this run" not in captions(multimodal)


def test_multimodal_caption_says_it_cannot_run_here(multimodal):
    click(multimodal, "multimodal_input_sample_chelsea.jpg")
    multimodal.segmented_control(key="keep_mm_tool").set_value("Caption")
    multimodal.run()
    assert_clean(multimodal)
    if _has(multimodal, "mm_caption"):
        pytest.skip("a captioning model's weights are present on this machine")
    assert any("No captioning model can run" in w.value for w in multimodal.warning)
    assert any("python -m components.models pull blip_captioning_base" in i.value for i in multimodal.info)
    reasons = [m.value for m in multimodal.markdown if m.value.startswith("- **")]
    assert any("BLIP" in r and ("no network" in r or "download" in r) for r in reasons), reasons


def test_multimodal_ocr_chain_gives_text_and_language(multimodal):
    multimodal.segmented_control(key="keep_mm_tool").set_value("Image → OCR → text models")
    multimodal.run()
    click(multimodal, "multimodal_input_sample_ocr_sample.png")
    click(multimodal, "mm_chain")
    assert_clean(multimodal)
    assert cards(multimodal) == 3  # OCR, language, sentiment
    expected = (DATA / "images" / "ocr_sample.txt").read_text(encoding="utf-8")
    read = multimodal.text[0].value
    assert word_error_rate([expected], [read]) < 0.2, read
    languages = multimodal.dataframe[0].value
    assert len(languages) >= 2 and "lang" in languages.columns
    assert "en" in set(languages["lang"])
    progress = multimodal.get("progress")  # one bar for the chain, not one per model call
    assert len(progress) == 1 and progress[0].proto.text == "Done: 3 of 3 models answered", progress
    for table, answer in zip(multimodal.dataframe, ("lang", "label")):  # sized for a half-width card
        assert list(table.value.columns) == ["text", answer, "score"]
        config = json.loads(table.proto.columns)
        assert all(config[name]["width"] for name in ("text", answer, "score")), config
        assert config["score"]["type_config"]["format"] == "%.3f"


@pytest.mark.parametrize("case", sorted(bad.IMAGE_ERRORS))
def test_multimodal_bad_image_gives_clear_error_then_recovers(multimodal, case):
    name, data = bad.IMAGE_ERRORS[case]()
    upload(multimodal, "multimodal_input_upload", name, data)
    assert_clean(multimodal, errors_allowed=True)
    messages = errors(multimodal)
    assert len(messages) == 1 and IMAGE_ERROR_MESSAGES[case] in messages[0], messages
    assert cards(multimodal) == 0
    click(multimodal, "multimodal_input_sample_chelsea.jpg")
    assert_clean(multimodal)
    assert multimodal.get("image")  # the photo is shown again


# ---------------------------------------------------------------- bring-your-own sets (Compare page's loader)

@pytest.mark.parametrize("case", sorted(bad.DATASET_ERRORS))
def test_dataset_generators_are_refused_with_a_clear_message(case):
    from components.datasets import DatasetError, load_upload

    task, message = bad.DATASET_EXPECTED[case]
    name, data = bad.DATASET_ERRORS[case]()
    with pytest.raises(DatasetError, match=re.escape(message)):
        load_upload(task, name, data)


def test_text_similarity_chart_draws_user_html_as_text(text):
    """Plotly draws <b>, <a href> and <br> in labels: the user's lines reach the chart escaped, so '<b>x</b>'
    is shown as typed, never bold, and no link is drawn."""
    set_text(text, "<b>bold</b> and <a href='http://evil.example'>a link</a>\nA plain second line.")
    text.segmented_control(key="keep_text_tool").set_value(TOOLS["sentence-similarity"]).run()  # its query box
    text.text_input(key="keep_text_query").set_value("bold")  # the lines ranked: bars labelled with them
    run_text(text, "sentence-similarity", ["all_minilm_l6_v2"])
    specs = charts(text)
    heatmap = next(s for s in specs if s["data"][0]["type"] == "heatmap")["data"][0]
    bars = next(s for s in specs if s["data"][0]["type"] == "bar")["data"][0]
    drawn = " ".join([*heatmap["y"], *bars["y"], *(" ".join(row) for row in heatmap.get("hovertext", []))])
    assert "<b>" not in drawn and "<a " not in drawn and "&lt;b&gt;bold" in drawn
