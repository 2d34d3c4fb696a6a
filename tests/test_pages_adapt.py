"""AppTest: the Adapt page trains on the bundled sets, draws its charts, classifies a new input, offers
the head for download, and refuses bad uploads without losing earlier results."""
from __future__ import annotations

import io
import json
from pathlib import Path

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
    at.radio(key="keep_adapt_map_all_minilm_l6_v2").set_value("tsne").run()
    assert any(t.startswith("t-SNE of") for t in _titles(at))
    at.text_area(key="adapt_try_text").set_value("My cat sleeps on the keyboard all day").run()
    at.button(key="adapt_try").click().run()
    assert not at.exception and at.success and "pets" in at.success[0].value
    at.radio(key="keep_adapt_source").set_value("Upload my own").run()
    at.file_uploader(key="adapt_upload_text-classification").set_value(
        ("one.csv", b"text,label\nhello,a\nworld,a\n", "text/csv")).run()
    assert at.error and "one class only" in at.error[0].value
    assert at.dataframe and "Few-shot curve" in " ".join(_titles(at))  # earlier results still there


@pytest.mark.slow
def test_image_train_charts_try_it_download(adapt_page, chelsea):
    at = adapt_page
    _train(at, "image-classification")
    _assert_results(at, "EfficientNet-Lite0")
    assert at.get("imgs") or at.expander  # the gallery of mistakes
    buffer = io.BytesIO()
    chelsea.save(buffer, "PNG")
    at.file_uploader(key="adapt_try_image").set_value(("cat.png", buffer.getvalue(), "image/png")).run()
    at.button(key="adapt_try").click().run()
    assert not at.exception and at.success


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
