"""Shareable links (issue 13): the codecs, each page's params both ways, and pages opened from a link (AppTest)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from components.ui.shell import share, share_codecs
from components.ui.widgets.inputs import RawInput
from components.ui.widgets.text_inputs import english_sample

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 120
VISION_LINK = {"task": "image-classification", "sample": "coffee", "models": "efficientnet_lite1,efficientnet_lite2",
               "runtime": "onnx", "target": "espresso", "method": "gradcam", "stress": "blur", "strength": "0.7"}


# ---------------------------------------------------------------- codecs

def test_choice_maps_url_text_to_the_widget_value_and_refuses_others():
    codec = share_codecs.Choice(share.VISION_TASKS)
    assert codec.decode("ocr", {}) == "Read text (OCR)"
    assert codec.encode("Read text (OCR)", {}) == "ocr"
    with pytest.raises(ValueError, match="not one of image-classification, ocr"):
        codec.decode("detection", {})


def test_many_checks_every_item_against_the_task():
    codec = share_codecs.Many(share._ids_for_task)
    ctx = {"task": "image-classification"}
    assert codec.decode("efficientnet_lite0, efficientnet_lite2", ctx) == ["efficientnet_lite0", "efficientnet_lite2"]
    assert codec.encode(["efficientnet_lite0", "efficientnet_lite2"], ctx) == "efficientnet_lite0,efficientnet_lite2"
    assert codec.decode("", ctx) == []
    with pytest.raises(ValueError, match="unknown here: `vader`"):  # a real model, but not an image classifier
        codec.decode("vader", ctx)
    with pytest.raises(share_codecs.PartlyUsed, match=r"`vader` \(unknown here\)"):
        codec.decode("efficientnet_lite0,vader", ctx)


@pytest.mark.parametrize(("codec", "text", "value"), [
    (share_codecs.Number(0.0, 1.0), "0.45", 0.45), (share_codecs.Number(3, 100, integer=True), "20", 20),
    (share_codecs.Flag(), "1", True), (share_codecs.Flag(), "0", False), (share_codecs.Text(10), "tabby", "tabby")])
def test_scalar_codecs_round_trip(codec, text, value):
    assert codec.decode(text, {}) == value
    assert codec.encode(value, {}) == text


@pytest.mark.parametrize(("codec", "text", "reason"), [
    (share_codecs.Number(0.0, 1.0), "1.5", "outside 0–1"), (share_codecs.Number(0.0, 1.0), "strong", "not a number"),
    (share_codecs.Number(3, 100, integer=True), "2.5", "not an integer"), (share_codecs.Flag(), "yes", "not 0 or 1"),
    (share_codecs.Text(5), "a long text", "longer than 5 characters")])
def test_scalar_codecs_refuse_bad_text_with_a_reason(codec, text, reason):
    with pytest.raises(ValueError, match=reason):
        codec.decode(text, {})


def test_a_bundled_sample_travels_by_name_and_an_upload_stays_behind():
    codec = share_codecs.Sample("images", ("*.jpg", "*.png"), "image")
    raw = codec.decode("chelsea", {})
    assert raw == RawInput("chelsea.jpg", (ROOT / "data" / "images" / "chelsea.jpg").read_bytes(), "sample")
    assert codec.encode(raw, {}) == "chelsea"
    assert codec.stays_behind(raw) is None
    upload = RawInput("holiday.jpg", b"...", "upload")
    assert codec.encode(upload, {}) is None
    assert "cannot carry uploads" in codec.stays_behind(upload)
    with pytest.raises(ValueError, match="no bundled sample named `holiday`"):
        codec.decode("holiday", {})


def test_text_travels_as_a_sample_name_or_as_the_typed_text():
    sample, typed = share_codecs.TextSample(), share_codecs.TypedText()
    assert sample.encode(english_sample(), {}) == "english" and typed.encode(english_sample(), {}) is None
    assert sample.encode("my own line", {}) is None and typed.encode("my own line", {}) == "my own line"
    long_text = "x" * (share_codecs.MAX_TEXT + 1)
    assert typed.encode(long_text, {}) is None and "longer than" in typed.stays_behind(long_text)


def drawn_widgets(at: AppTest) -> dict[str, Any]:
    """{key: widget} for every keyed widget on the page and in its sidebar."""
    def walk(node: Any) -> Iterator[Any]:
        for child in getattr(node, "children", {}).values():
            yield child
            yield from walk(child)
    return {w.key: w for root in (at.main, at.sidebar) for w in walk(root) if getattr(w, "key", None)}


SETTING_VIEWS = [  # (page, link params, button to press): together they draw every labelled setting
    ("vision", {"sample": "chelsea", "models": "efficientnet_lite0"}, "vision_run"),
    ("text", {"tool": "similarity"}, None), ("text", {"tool": "zero-shot"}, None),
    ("text", {"tool": "tokenizer"}, None), ("text", {"tool": "attention", "text": "A cat naps.\nStocks fell."}, None),
    ("speech", {"sample": "clip01"}, None), ("multimodal", {"tool": "zero-shot", "sample": "rocket"}, None),
    ("compare", {"task": "image-classification", "set": "server"}, None),
    ("compare", {"task": "text-generation"}, None), ("adapt", {}, None), ("catalog", {"q": "bert"}, None)]


def test_every_widget_a_link_carries_is_drawn_with_its_declared_label_and_key(monkeypatch, tmp_path):
    """A page draws each link setting from the one table (share.PAGES): its widget has the declared key and label,
    and no labelled setting is left undrawn (a renamed key or a label typed on the page fails here)."""
    monkeypatch.setenv("MODEL_EXPLORER_DATA_ROOTS", str(tmp_path))
    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    undrawn = {(page, p.name) for page, spec in share.PAGES.items() for p in (*spec.params, *share.GLOBAL) if p.label}
    for page, params, button in SETTING_VIEWS:
        at = open_with(page, params)
        if button:
            at.button(key=button).click().run()
        drawn = drawn_widgets(at)
        ctx = share.PAGES[page].context({key: at.session_state[key] for key in at.session_state})
        for setting in (*share.PAGES[page].params, *share.GLOBAL):
            widget = drawn.get(setting.key.format(**ctx)) if setting.label else None
            if widget is not None:
                assert widget.label == setting.label, (page, setting.name, widget.label)
                undrawn.discard((page, setting.name))
    assert undrawn <= {(page, "present") for page in share.PAGES} and len(undrawn) < len(share.PAGES), undrawn


# ---------------------------------------------------------------- pages: URL -> state -> URL

LINKS = {  # id: (page, link params)
    "vision": ("vision", VISION_LINK),
    "text": ("text", {"tool": "zero-shot", "text": "A cat naps.\nStocks fell.", "labels": "animals, money",
                      "models": "all_minilm_l6_v2", "runtime": "onnx"}),
    "attention": ("text", {"tool": "attention", "sample": "english", "model": "all_minilm_l6_v2", "line": "1"}),
    "speech": ("speech", {"sample": "clip01", "models": "whisper_tiny_en_ct2"}),
    "multimodal": ("multimodal", {"tool": "zero-shot", "sample": "rocket", "labels": "rocket, cat",
                                  "models": "conse_effnet_minilm"}),
    "compare": ("compare", {"task": "sentence-similarity", "models": "all_minilm_l6_v2", "runtimes": "eager,onnx",
                            "set": "bundled", "runs": "5", "warmup": "1"}),
    "adapt": ("adapt", {"data": "text", "set": "bundled", "backbones": "all_minilm_l6_v2", "head": "finetune",
                        "baseline": "0"}),
    "catalog": ("catalog", {"q": "bert", "modality": "text", "size": "< 1B", "model": "bert_base_uncased"}),
}


@pytest.mark.parametrize("link", list(LINKS))
def test_a_link_decodes_to_state_that_encodes_to_the_same_link(link):
    page, params = LINKS[link]
    state, notes = share.decode(page, params, {})
    assert notes == []
    assert share.current(page, state) == (params, [])


def test_problems_name_an_unknown_page_setting_or_value():
    assert "unknown page 'gallery'" in share.problems("gallery", {})[0]
    assert "unknown setting 'colour' for page vision" in share.problems("vision", {"colour": "red"})[0]
    assert share.problems("vision", {"models": "gpt4"}) == [
        "The link's models setting was not used: unknown here: `gpt4`."]
    assert share.problems("vision", VISION_LINK) == []


# ---------------------------------------------------------------- pages opened from a link (AppTest)

def open_with(page: str, params: dict[str, str], url: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if url:
        at.context["url"] = url
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_vision_opened_from_a_link_shows_its_models_sample_and_settings():
    at = open_with("vision", VISION_LINK, url="http://classroom:8501/vision")
    assert at.multiselect(key="keep_vision_models_image-classification").value == VISION_LINK["models"].split(",")
    assert at.session_state["vision_input"].name == "coffee.jpg"
    assert any(b.key == "vision_run" for b in at.button)  # the sample is decoded: Run is offered
    assert at.session_state["keep_vision_runtime"] == "onnx"
    assert at.session_state["keep_explain_target"] == "espresso"  # its field shows with results
    assert at.selectbox(key="keep_stress_kind_image-classification").value == "blur"
    assert at.slider(key="keep_stress_strength_image-classification").value == 0.7
    assert at.query_params == VISION_LINK  # the URL mirrors the state
    link = at.sidebar.code[0].value
    assert link.startswith("http://classroom:8501/vision?task=image-classification&sample=coffee&")
    assert not at.warning


def test_a_widget_change_goes_into_the_link_and_is_not_undone_by_the_old_url():
    at = open_with("vision", VISION_LINK)
    at.multiselect(key="keep_vision_models_image-classification").set_value(["efficientnet_lite0"]).run()
    assert at.query_params["models"] == "efficientnet_lite0"
    at.run()
    assert at.multiselect(key="keep_vision_models_image-classification").value == ["efficientnet_lite0"]


def test_text_page_opened_from_a_link_shows_its_tool_text_and_model():
    at = open_with("text", {"tool": "sentiment", "sample": "english", "models": "vader"})
    assert at.session_state["keep_text_tool"] == "Sentiment"
    assert at.text_area(key="keep_text_input").value == english_sample()
    assert at.multiselect(key="keep_text_models_sentiment-analysis").value == ["vader"]
    assert {"tool": "sentiment", "sample": "english", "models": "vader"}.items() <= at.query_params.items()


def test_compare_opened_from_a_link_shows_its_task_models_and_runtimes():
    at = open_with(*LINKS["compare"])
    assert at.selectbox(key="keep_cmp_task").value == "sentence-similarity"
    assert at.multiselect(key="keep_cmp_models_sentence-similarity").value == ["all_minilm_l6_v2"]
    assert at.multiselect(key="keep_cmp_runtimes").value == ["eager", "onnx"]
    assert at.slider(key="keep_cmp_runs").value == 5


def test_compares_estimate_picks_travel_in_its_link():
    """Found in browser QA: Copy link on Compare left out the estimate-only models picked for the estimates
    table. They travel; a model of the task that is not estimate-only here is left out with a note."""
    at = open_with("compare", {"task": "text-generation", "estimates": "llama2_7b,gpt2,mistral_7b"})
    key = "keep_cmp_estimates_text-generation"
    assert at.multiselect(key=key).value == ["llama2_7b", "mistral_7b"]
    notes = [w.value for w in at.warning]
    assert notes == ["The link's estimates: GPT-2 (124M) has no estimate here: it runs here (pick it among the "
                     "models)."]
    assert at.query_params["estimates"] == "llama2_7b,mistral_7b"
    at.multiselect(key=key).set_value(["falcon_7b"]).run()
    assert at.query_params["estimates"] == "falcon_7b"
    assert "estimates=falcon_7b" in at.sidebar.code[0].value  # the link to copy

def test_an_older_copy_of_the_url_sent_with_a_click_does_not_undo_it():
    """Found in CI (browser, a loaded server): a click arrived with the URL from before the previous click; it
    looked like a new link and put back the model removed a moment before. On the page it wrote, the URL is
    only an echo: never applied."""
    at = open_with("vision", {"task": "image-classification", "models": "efficientnet_lite0,efficientnet_lite1"})
    key = "keep_vision_models_image-classification"
    older = dict(at.query_params)
    at.multiselect(key=key).set_value(["efficientnet_lite0"]).run()
    assert at.query_params["models"] == "efficientnet_lite0"
    at.query_params.clear()
    at.query_params.update(older)  # what a browser that had not seen the new URL yet sends with its next click
    at.run()
    assert at.multiselect(key=key).value == ["efficientnet_lite0"] and not at.warning
    assert at.query_params["models"] == "efficientnet_lite0"  # written again from the state


def test_back_on_the_same_page_restores_the_earlier_settings(monkeypatch):
    """The browser's Back / Forward is the one URL change on a page that is applied (Streamlit marks its rerun)."""
    from types import SimpleNamespace

    at = open_with("vision", {"task": "image-classification", "models": "efficientnet_lite0,efficientnet_lite1"})
    key = "keep_vision_models_image-classification"
    older = dict(at.query_params)
    at.multiselect(key=key).set_value(["efficientnet_lite0"]).run()
    at.query_params.clear()
    at.query_params.update(older)
    monkeypatch.setattr(share, "get_script_run_ctx", lambda: SimpleNamespace(is_history_navigation=True))
    at.run()
    assert at.multiselect(key=key).value == ["efficientnet_lite0", "efficientnet_lite1"]


def test_a_list_with_an_unknown_id_keeps_the_known_ones():
    """Found in the browser: one unknown id dropped the link's whole model list (and with it a model that could
    not run here went without its note)."""
    at = open_with("vision", {"task": "image-classification", "models": "foo,efficientnet_lite1,alexnet"})
    notes = [w.value for w in at.warning]
    assert "The link's models setting was used without `foo` (unknown here)." in notes
    assert any(note.startswith("The link's models: AlexNet cannot run here: ") for note in notes), notes
    assert at.multiselect(key="keep_vision_models_image-classification").value == ["efficientnet_lite1"]
    with pytest.raises(share_codecs.PartlyUsed) as partly:
        share_codecs.Many(lambda ctx: ["a", "b"]).decode("a,zz,b", {})
    assert partly.value.value == ["a", "b"] and str(partly.value) == "`zz` (unknown here)"


def test_a_bad_value_in_a_link_is_a_one_line_note_and_the_rest_still_applies():
    at = open_with("vision", {"sample": "chelsea", "models": "gpt4", "strength": "9", "colour": "red"})
    notes = [w.value for w in at.warning]
    assert "The link's models setting was not used: unknown here: `gpt4`." in notes
    assert "The link's strength setting was not used: `9` is outside 0–1." in notes
    assert "The link's setting `colour` means nothing on this page: ignored." in notes
    assert at.session_state["vision_input"].name == "chelsea.jpg"
    assert not at.error


def test_a_link_asking_more_timed_runs_than_allowed_is_cut_to_the_cap(monkeypatch):
    """Found in browser QA: runs=500 was refused as outside 3–100 while 40 models are cut to the cap; it is cut
    too (to the server's cap, or to the slider's maximum where the operator allows more), with the same note."""
    monkeypatch.delenv("MODEL_EXPLORER_MAX_TIMED_RUNS", raising=False)
    at = open_with("compare", {"task": "sentiment-analysis", "models": "vader", "runs": "500"})
    assert at.slider(key="keep_cmp_runs").value == 30 and at.query_params["runs"] == "30"
    assert [w.value for w in at.warning] == [
        "The link's runs setting asks for 500 timed runs per model: this server allows 30 "
        "(MODEL_EXPLORER_MAX_TIMED_RUNS raises it), so 30 is used."]
    monkeypatch.setenv("MODEL_EXPLORER_MAX_TIMED_RUNS", "1000")
    values, notes = share.decode("compare", {"runs": "500"}, {})
    assert notes == [] and share.clamp("compare", values, {}) == [
        "The link's runs setting asks for 500 timed runs per model: this page offers at most 100, so 100 is used."]
    assert values["keep_cmp_runs"] == 100
    assert share.decode("compare", {"runs": "1"}, {})[1] == [
        "The link's runs setting was not used: `1` is outside 3–100."]
    assert share.decode("compare", {"warmup": "50"}, {})[1] == [
        "The link's warmup setting was not used: `50` is outside 0–10."]  # no cap: out of range as before

def test_an_upload_is_named_as_staying_behind_and_left_out_of_the_link():
    at = open_with("vision", {})
    at.file_uploader(key="vision_input_upload").set_value(
        ("mine.jpg", (ROOT / "data" / "images" / "rocket.jpg").read_bytes(), "image/jpeg"))
    at.run()
    assert at.session_state["vision_input"].origin == "upload"
    assert "sample" not in at.query_params
    assert any("cannot carry uploads" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("link", list(LINKS))
def test_every_page_opened_from_a_link_keeps_it_whole(link):
    """The page draws cleanly with the link's settings, and its own link carries all of them back."""
    page, params = LINKS[link]
    at = open_with(page, params)
    assert not at.warning and not at.error, [w.value for w in (*at.warning, *at.error)]
    assert params.items() <= at.query_params.items(), at.query_params


# ---------------------------------------------------------------- what a crafted link can show

CRAFTED = {"models": "![x](http://example.com/a.png)", "sample": "[click](http://evil)",
           "[click](http://evil)": "1", "lesson": "[click](http://evil)"}


def test_a_links_text_is_shown_literally_in_its_notes_never_as_markdown():
    """A link's own text goes into a note as a code span: no image to fetch, no link to click (the browser
    test tests/browser/test_share_notes.py checks how it renders)."""
    import re

    at = open_with("vision", CRAFTED)
    notes = [w.value for w in at.warning]
    assert "The link's models setting was not used: unknown here: `![x](http://example.com/a.png)`." in notes
    assert "The link's sample setting was not used: no bundled sample named `[click](http://evil)`." in notes
    assert "The link's setting `[click](http://evil)` means nothing on this page: ignored." in notes
    assert any("There is no lesson `[click](http://evil)` here" in note for note in notes)
    for note in notes:
        assert "http" not in re.sub(r"`[^`\n]*`", "", note), note  # outside the code spans: nothing of the link


@pytest.mark.parametrize(("text", "shown"), [
    ("plain", "`plain`"), ("a `code` span", "`a code span`"),  # a backtick would close the span early
    ("two\n\n[click](http://evil)", "`two [click](http://evil)`"),  # a blank line would end the paragraph
    ("x" * 100, f"`{'x' * share_codecs.MAX_QUOTED}…`"), ("", "``")])
def test_quoted_keeps_a_links_text_in_one_code_span_on_one_line(text, shown):
    assert share_codecs.quoted(text) == shown


@pytest.mark.parametrize(("page", "params", "kept", "left_out"), [
    ("vision", {"models": "efficientnet_lite0,alexnet"}, ("keep_vision_models_image-classification",
                                                           ["efficientnet_lite0"]), "AlexNet"),
    ("compare", {"task": "text-generation", "models": "gpt2,gpt4"}, ("keep_cmp_models_text-generation", ["gpt2"]),
     "GPT-4"),
])
def test_a_link_says_which_of_its_models_cannot_run_here(page, params, kept, left_out):
    """A catalog model of the right task is a valid link value, but the page's picker offers only what runs
    here: the model is left out with a note that says why, not silently."""
    at = open_with(page, params)
    notes = [w.value for w in at.warning]
    assert len(notes) == 1 and notes[0].startswith(f"The link's models: {left_out} cannot run here: "), notes
    assert at.session_state[kept[0]] == kept[1]


@pytest.mark.parametrize("page, params, key, note", [
    ("adapt", {"backbones": "efficientnet_lite0,resnet50"}, "keep_adapt_backbones_image-classification",
     "The link's backbones: ResNet-50 cannot be a backbone here: no network and no local weights"),
    ("text", {"tool": "attention", "model": "efficientnet_lite0"}, "keep_attention_model",
     "The link's model: EfficientNet-Lite0 reads no text."),
])
def test_a_link_says_why_its_backbone_or_attention_model_is_left_out(page, params, key, note):
    """Adapt offers only backbones with real weights here, and the attention view only text models that run:
    a link naming another catalog model gets a note, not a silent swap (an id outside the catalog says how
    many values are allowed instead of listing the whole catalog)."""
    at = open_with(page, params)
    notes = [w.value for w in at.warning]
    assert len(notes) == 1 and notes[0].startswith(note), notes
    assert "resnet50" not in at.session_state[key] and at.session_state[key] != "efficientnet_lite0"
    bogus = open_with("text", {"tool": "attention", "model": "bogus"})
    notes = [w.value for w in bogus.warning]
    assert len(notes) == 1 and re.search(r"is not one of the \d+ allowed values \(", notes[0]), notes
    assert len(notes[0]) < 300, notes


# ---------------------------------------------------------------- link text is shown, never rendered

PIXEL = "![t](https://example.invalid/pixel.png)"
SIGN_IN = "[sign in](https://example.invalid)"


def assert_nothing_rendered(at: AppTest) -> None:
    """No Markdown element of the page (captions, notes, errors, cards) renders a link or an image, and no
    bare address is left for GitHub-style autolinks."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark")
    shown = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success")
             for e in at.get(kind) if isinstance(getattr(e, "value", None), str)]
    assert any("example" in value for value in shown), "the link's text is shown somewhere"
    for value in shown:
        tokens = [child.type for block in parser.parse(value) for child in (block.children or [])]
        assert "image" not in tokens and "link_open" not in tokens, value
        assert "https://example.invalid" not in value, value


def test_a_links_path_is_shown_as_text_on_compare(monkeypatch, tmp_path):
    monkeypatch.setenv("MODEL_EXPLORER_DATA_ROOTS", str(tmp_path))
    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    at = open_with("compare", {"task": "image-classification", "set": "server", "path": PIXEL})
    assert any("is outside the folders this server shares" in w.value for w in at.warning)
    assert_nothing_rendered(at)


def test_a_links_query_labels_and_lines_are_shown_as_text_on_the_text_page():
    lines = f"{PIXEL}\n{SIGN_IN} is here"
    at = open_with("text", {"tool": "similarity", "text": lines, "query": SIGN_IN, "models": "all_minilm_l6_v2"})
    at.button(key="run_sentence-similarity").click().run()
    assert not at.exception and any("Closest to" in m.value for m in at.markdown)
    assert_nothing_rendered(at)
    at = open_with("text", {"tool": "zero-shot", "text": lines, "labels": f"{SIGN_IN}, {PIXEL}",
                            "models": "all_minilm_l6_v2"})
    at.button(key="run_zero-shot-classification").click().run()
    assert not at.exception and any("cosine" in m.value for m in at.markdown)
    assert_nothing_rendered(at)


def test_a_lesson_step_asking_more_than_the_cap_is_reported_by_the_lesson_check():
    """The lesson-file check names a value the page would cut (500 timed runs), as the page's own note does."""
    notes = share.problems("compare", {"runs": "500"})
    assert len(notes) == 1 and "500 timed runs" in notes[0] and "30" in notes[0]
