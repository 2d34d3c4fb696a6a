"""AppTest for the stress test on the Text and Speech pages and the Text page's attention view (issue 10):
answers before and after a perturbation, the robustness chart, and bad requests as one-line messages."""
from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_pages_playgrounds import CLIP01, WHISPER, assert_clean, captions, click, open_page

from components.core.scoring import word_error_rate

SENTIMENT = "sentiment-analysis"
LINES = "The film was wonderful and I love it.\nThis is a terrible, awful day."


def infos(at: AppTest) -> str:
    return "\n".join(i.value for i in at.info)


def last_chart(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[-1].proto.spec)


@pytest.fixture(scope="module")
def text() -> AppTest:
    at = open_page("app_pages/text.py")
    at.text_area(key="keep_text_input").set_value(LINES)
    at.run()
    return at


def tool(at: AppTest, name: str) -> None:
    at.segmented_control(key="keep_text_tool").set_value(name)
    at.run()
    assert_clean(at)


def test_text_negation_flips_vader_and_the_curve_falls(text):
    tool(text, "Sentiment")
    text.multiselect(key=f"keep_text_models_{SENTIMENT}").set_value(["vader"])
    text.selectbox(key=f"keep_stress_kind_{SENTIMENT}").set_value("negation")
    text.slider(key=f"keep_stress_strength_{SENTIMENT}").set_value(1.0)
    text.run()
    shown = "The film was not wonderful and I love it.\nThis is not a terrible, awful day."
    assert shown in [c.value for c in text.main.code]  # the perturbed lines
    click(text, f"stress_run_{SENTIMENT}")
    assert_clean(text)
    rows = text.dataframe[-1].value.to_dict("records")
    assert [(r["item"], r["original answer"], r["perturbed answer"]) for r in rows] == [
        ("line 1", "positive", "positive"), ("line 2", "negative", "positive")]
    assert [r["answer kept"] for r in rows] == [True, False]
    assert rows[0]["change"] < -0.3  # "not wonderful": much less sure, though still positive
    click(text, f"stress_curve_{SENTIMENT}")
    assert_clean(text)
    (line,) = last_chart(text)["data"]
    assert line["name"] == "VADER sentiment" and line["x"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert line["y"][-1] < line["y"][0] - 0.1, line["y"]  # negated sentences flip their gold label
    assert "Accuracy (higher is better) on the bundled labelled set (48 samples)" in captions(text)


def test_similarity_stress_keeps_the_query(text):
    tool(text, "Similarity & search")
    text.text_input(key="keep_text_query").set_value("a terrible day")
    text.selectbox(key="keep_stress_kind_sentence-similarity").set_value("typos")
    text.run()
    click(text, "stress_run_sentence-similarity")
    assert_clean(text)
    (row,) = text.dataframe[-1].value.to_dict("records")
    assert row["model"] == "all-MiniLM-L6-v2" and row["original answer"] == "line 2"  # closest to the query
    assert -1 <= row["confidence"] <= 1 and isinstance(row["answer kept"], (bool, np.bool_))
    text.text_input(key="keep_text_query").set_value("")
    text.run()
    assert "The input changed since this stress run" in captions(text)


def test_zero_shot_has_no_labelled_set_and_no_model_is_a_message(text):
    tool(text, "Zero-shot labels")
    assert "No robustness curve for zero-shot-classification: it has no bundled labelled set" in infos(text)
    assert not any(b.key == "stress_curve_zero-shot-classification" for b in text.button)
    text.multiselect(key="keep_text_models_zero-shot-classification").set_value([])
    text.run()
    assert_clean(text)
    assert "Select at least one model above to stress-test it." in infos(text)
    assert text.button(key="stress_run_zero-shot-classification").disabled


def show_attention(at: AppTest, model_id: str, runtime: str) -> None:
    """Pick a model and runtime in the Attention tool and press Show attention."""
    at.selectbox(key="keep_attention_model").set_value(model_id)
    at.segmented_control(key="keep_attention_runtime").set_value(runtime)
    at.run()
    click(at, "attention_run")
    assert_clean(at)


def test_attention_map_grid_and_models_without_attention(text):
    tool(text, "Attention")
    text.selectbox(key="keep_attention_model").set_value("all_minilm_l6_v2")
    text.run()
    click(text, "attention_run")
    assert_clean(text)
    spec = last_chart(text)
    heat = spec["data"][0]
    tokens = spec["layout"]["xaxis"]["ticktext"]
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and "wonderful" in tokens
    assert spec["layout"]["yaxis"]["ticktext"] == tokens
    assert np.allclose(np.sum(heat["z"], axis=1), 1.0, atol=1e-4)  # mean of heads: rows still sum to 1
    text.selectbox(key="keep_attention_layer").set_value(6)
    text.selectbox(key="keep_attention_head").set_value(3)
    text.run()
    assert last_chart(text)["layout"]["title"]["text"] == "all-MiniLM-L6-v2 · layer 6 · head 3"
    text.segmented_control(key="keep_attention_view").set_value("All heads")
    text.run()
    assert_clean(text)
    grid = last_chart(text)["data"][0]
    assert np.shape(grid["z"]) == (6, 12) and grid["y"][0] == "layer 1" and grid["x"][-1] == "head 12"

    show_attention(text, "vader", "eager")
    assert "VADER sentiment is not a transformer" in infos(text)
    show_attention(text, "all_minilm_l6_v2", "onnx")
    assert "returns no attention weights: pick the PyTorch eager runtime" in infos(text)
    text.segmented_control(key="keep_attention_runtime").set_value("eager")
    text.text_area(key="keep_text_input").set_value("   ")
    text.run()
    assert_clean(text, errors_allowed=True)  # the text box says it is empty
    assert "Type or paste a sentence above" in infos(text)


def test_speech_noise_changes_whisper_transcript():
    at = open_page("app_pages/speech.py")
    click(at, "speech_input_sample_clip01.wav")
    at.multiselect(key="keep_speech_models").set_value([WHISPER])
    at.selectbox(key="keep_stress_kind_speech-recognition").set_value("noise")
    at.slider(key="keep_stress_strength_speech-recognition").set_value(1.0)
    at.run()
    assert "white noise at 0 dB SNR" in captions(at)
    assert "No robustness curve" not in infos(at) and at.button(key="stress_curve_speech-recognition")
    click(at, "stress_run_speech-recognition")  # no Transcribe first: the stress run transcribes the original
    assert_clean(at)
    (row,) = at.dataframe[-1].value.to_dict("records")
    assert word_error_rate([CLIP01], [row["original answer"]]) < 0.3, row
    assert row["word error vs original"] > 0.3 and not row["answer kept"]
    assert "confidence" not in row  # a transcript carries no score
