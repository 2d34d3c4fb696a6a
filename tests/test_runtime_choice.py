"""The playgrounds' runtime default, by measurement: ONNX Runtime fp32 where it answers like eager on the bundled
set; measured once per weights, kept on disk under their fingerprint."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest
from test_pages_playgrounds import APP, TIMEOUT, assert_clean, classify, click

from components.core.catalog import get_entry
from components.datasets import load_bundled
from components.models import DEFAULT_RUNTIME_ENV, default_runtime, runtime_verdict, weights_fingerprint
from components.models.runtimes import choice

TASK = "image-classification"
LITE = [get_entry("efficientnet_lite0"), get_entry("efficientnet_lite2")]


def test_the_bar_is_full_top1_agreement_or_cosine_of_0999():
    assert choice.agrees({"basis": "top-1 match", "value": 1.0})
    assert not choice.agrees({"basis": "top-1 match", "value": 8 / 9})
    assert choice.agrees({"basis": "output cosine", "value": 0.9999, "min": 0.9995})
    assert not choice.agrees({"basis": "output cosine", "value": 0.9999, "min": 0.998})  # one output strays


def test_lite0_defaults_to_onnx_measured_once_and_kept_under_its_fingerprint(lite0, monkeypatch):
    asked = []

    def samples():
        asked.append(1)
        return load_bundled(TASK).inputs

    monkeypatch.setattr(choice, "_VERDICTS", {})
    path = choice._path(LITE[0].id, f"real-{weights_fingerprint(lite0.model)}")
    path.unlink(missing_ok=True)
    found = runtime_verdict(LITE[0], TASK, samples)
    assert found["runtime"] == "onnx" and found["agreement"]["value"] == 1.0 and found["agreement"]["n"] >= 5
    assert path.exists() and len(asked) == 1
    monkeypatch.setattr(choice, "_VERDICTS", {})  # a restarted server reads the verdict, measures nothing
    assert runtime_verdict(LITE[0], TASK, samples) == found and len(asked) == 1


def test_a_fixed_default_wins_over_the_measurement(monkeypatch):
    monkeypatch.setenv(DEFAULT_RUNTIME_ENV, "eager")
    assert default_runtime(LITE, TASK, lambda: []) == "eager"


def test_vision_starts_on_onnx_and_the_card_names_it_while_the_picker_offers_eager(monkeypatch):
    monkeypatch.delenv(DEFAULT_RUNTIME_ENV, raising=False)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/vision.py")
    at.run()
    picker = at.segmented_control(key="keep_vision_runtime")
    assert picker.value == "onnx" and "PyTorch eager" in picker.options
    click(at, "vision_input_sample_chelsea.jpg")
    classify(at, ["efficientnet_lite0"])
    assert_clean(at)
    assert "runtime onnx" in " ".join(c.value for c in at.caption)


def test_an_unknown_fixed_default_is_ignored_and_a_failed_measurement_is_eager(monkeypatch):
    """Regression: MODEL_EXPLORER_DEFAULT_RUNTIME=onx was taken as given (the picker showed nothing selected); a
    verdict file of the wrong shape raised on every page view."""
    monkeypatch.setenv(DEFAULT_RUNTIME_ENV, "onx")
    monkeypatch.setattr(choice, "verdict", lambda *a, **k: {"runtime": "eager"})
    assert default_runtime(LITE, TASK, lambda: []) == "eager"
    monkeypatch.setattr(choice, "create_runner", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("export broke")))
    bad = choice._path("nothing", "real-x")
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("[]")
    try:
        found = choice._read_or_measure(LITE[0], TASK, None, bad, lambda: [], None)
    finally:
        bad.unlink()
    assert found["runtime"] == "eager" and "export broke" in found["reason"]


def test_clicking_the_chosen_runtime_again_keeps_a_runtime_selected(monkeypatch):
    """Regression: the runtime control unselects an option clicked twice; the page then showed no runtime and ran
    eager whatever it had shown. The default comes back instead."""
    monkeypatch.setenv(DEFAULT_RUNTIME_ENV, "onnx")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/vision.py")
    at.run()
    at.segmented_control(key="keep_vision_runtime").set_value(None).run()
    assert_clean(at)
    assert at.segmented_control(key="keep_vision_runtime").value == "onnx"
