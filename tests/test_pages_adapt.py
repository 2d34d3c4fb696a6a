"""AppTest: the Adapt page trains on the bundled sets, draws its charts, classifies a new input, offers
the head for download, and refuses bad uploads without losing earlier results."""
from __future__ import annotations

import io
import json
from pathlib import Path

import badinputs as bad
import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).parents[1] / "app.py"


@pytest.fixture()
def adapt_page(tmp_path_factory, monkeypatch) -> AppTest:
    monkeypatch.setenv("MODEL_EXPLORER_FEATURES_DIR", str(tmp_path_factory.getbasetemp() / "features"))
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page("app_pages/adapt.py").run()
    assert not at.exception
    return at


def _titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def _train(at: AppTest, task: str) -> None:
    at.radio(key="keep_adapt_task").set_value(task).run()
    at.button(key="adapt_train").click().run()
    assert not at.exception and not at.error


def _assert_results(at: AppTest, backbone: str) -> None:
    table = at.dataframe[0].value
    assert set(table["Weights"]) >= {"real", "random"}
    titles = " | ".join(_titles(at))
    for expected in ("Few-shot curve", f"Confusion matrix — {backbone}", "Per-class accuracy", "PCA of"):
        assert expected in titles
    assert at.get("download_button") and "joblib.load" in at.code[0].value


@pytest.mark.slow
def test_text_train_charts_try_it_download_then_bad_upload_keeps_results(adapt_page):
    at = adapt_page
    _train(at, "text-classification")
    _assert_results(at, "all-MiniLM-L6-v2")
    assert "tfidf" not in set(at.dataframe[0].value["Backbone"]) and "none" in set(at.dataframe[0].value["Weights"])
    assert all(text.startswith("[") for text in at.dataframe[0].value["Accuracy 95% interval"])
    at.radio(key="keep_adapt_map_all_minilm_l6_v2").set_value("tsne").run()
    assert any(t.startswith("t-SNE of") for t in _titles(at))
    at.text_area(key="adapt_try_text").set_value("My cat sleeps on the keyboard all day").run()
    at.button(key="adapt_try").click().run()
    assert not at.exception and at.success and "pets" in at.success[0].value
    at.text_area(key="adapt_try_text").set_value("The match ended two to one").run()
    assert not at.success  # the answer was for the earlier text
    at.text_area(key="adapt_try_text").set_value("My cat sleeps on the keyboard all day").run()
    assert at.success
    at.button(key="adapt_train").click().run()
    assert not at.exception and not at.success  # a new training: the head that answered is gone
    at.radio(key="keep_adapt_source").set_value("Upload my own").run()
    at.file_uploader(key="adapt_upload_text-classification").set_value(
        ("one.csv", b"text,label\nhello,a\nworld,a\n", "text/csv")).run()
    assert at.error and "one class only" in at.error[0].value
    assert at.dataframe and "Few-shot curve" in " ".join(_titles(at))  # earlier results still there


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _image_captions(at: AppTest) -> list[str]:
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


@pytest.mark.slow
def test_image_train_charts_try_it_download(adapt_page, chelsea, coffee):
    at = adapt_page
    _train(at, "image-classification")
    _assert_results(at, "EfficientNet-Lite0")
    gallery = [e.label for e in at.expander if e.label.startswith("What it got wrong")]
    assert len(gallery) == 1, gallery  # the held-out photos it got wrong, each captioned "true → predicted"
    assert gallery[0].startswith("What it got wrong (0 ") or any(" → " in c for c in _image_captions(at))
    at.file_uploader(key="adapt_try_image").set_value(("cat.png", _png(chelsea), "image/png")).run()
    assert any(c.startswith("cat.png · 451×300") for c in _image_captions(at))  # the photo being classified
    at.button(key="adapt_try").click().run()
    assert not at.exception and at.success
    probabilities = json.loads(at.dataframe[-1].proto.columns)["Probability"]
    assert probabilities["type_config"]["format"] == "percent"  # not 0.000000000000000000000000000004
    # the answer belongs to that photo: another photo, or a file that is no image, does not show it
    at.file_uploader(key="adapt_try_image").set_value(("coffee.png", _png(coffee), "image/png")).run()
    assert not at.exception and not at.success and not at.error
    assert any(c.startswith("coffee.png · 600×400") for c in _image_captions(at))
    at.file_uploader(key="adapt_try_image").set_value(("x.jpg", bytes(range(256)) * 4, "image/jpeg")).run()
    assert not at.exception and at.error and not at.success
    assert "x.jpg" in at.error[0].value and not any(c.startswith("x.jpg") for c in _image_captions(at))
    at.file_uploader(key="adapt_try_image").set_value(("cat.png", _png(chelsea), "image/png")).run()
    assert at.success  # the same photo again: its answer is still its own


@pytest.mark.slow
def test_audio_train_charts_try_it_download(adapt_page):
    at = adapt_page
    at.radio(key="keep_adapt_task").set_value("audio-classification").run()
    assert "SYNTHETIC spoken words" in " ".join(c.value for c in at.caption)
    assert at.multiselect(key="keep_adapt_backbones_audio-classification").value == ["whisper_tiny_en_ct2"]
    _train(at, "audio-classification")
    _assert_results(at, "Whisper tiny.en (CTranslate2 int8)")
    assert "load_audio" in at.code[0].value
    clip = next((Path(__file__).parents[1] / "data" / "adapt" / "spoken_words" / "up").glob("*.wav"))
    at.file_uploader(key="adapt_try_audio").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    at.button(key="adapt_try").click().run()
    assert not at.exception and at.success and "up" in at.success[0].value


@pytest.mark.parametrize("case", sorted(bad.ADAPT_ERRORS))
def test_hostile_sets_give_one_line_and_the_page_keeps_working(adapt_page, case):
    at = adapt_page
    task, message = bad.ADAPT_EXPECTED[case]
    name, data = bad.ADAPT_ERRORS[case]()
    at.radio(key="keep_adapt_task").set_value(task).run()
    at.radio(key="keep_adapt_source").set_value("Upload my own").run()
    at.file_uploader(key=f"adapt_upload_{task}").set_value((name, data, "application/zip")).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    at.radio(key="keep_adapt_source").set_value("Bundled").run()
    assert not at.exception and not at.error
    assert any("samples" in c.value for c in at.caption)
