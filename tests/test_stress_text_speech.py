"""Stress tests on text and speech (issue 10): each task's headline answers read from real outputs, the
telephone band, and robustness curves of the offline text and speech models on their bundled sets."""
from __future__ import annotations

import numpy as np
import pytest

from components.core.catalog import get_entry
from components.datasets import Dataset, load_bundled
from components.explain.stress import SAMPLE_RATE, answers, perturb, robustness_curve
from components.models.factory import create_runner


def runner(model_id: str, task: str):
    return create_runner(get_entry(model_id), task, "real")


def headline(points: list[dict], key: str) -> list[float]:
    return [p["metrics"][key] for p in points]


def test_answers_of_each_text_task():
    lines = ["The weather is wonderful today", "Il fait très beau aujourd'hui", "The stock market fell sharply"]
    fasttext = runner("fasttext_lid176", "language-identification")
    language = answers("language-identification", fasttext.run(lines).output)
    assert [(a.item, a.answer) for a in language] == [("line 1", "en"), ("line 2", "fr"), ("line 3", "en")]
    assert all(a.scores[a.answer] == a.confidence for a in language)
    minilm = runner("all_minilm_l6_v2", "zero-shot-classification")
    labels = answers("zero-shot-classification", minilm.run(lines, labels=["weather", "finance"]).output)
    assert [a.answer for a in labels] == ["weather", "weather", "finance"]
    assert all(abs(sum(a.scores.values()) - 1) < 1e-6 for a in labels)
    vader = answers("sentiment-analysis", runner("vader", "sentiment-analysis").run(lines).output)
    assert vader[0].answer == "positive" and vader[0].scores == {"positive": vader[0].confidence}
    similar = runner("all_minilm_l6_v2", "sentence-similarity")
    topics = ["A cat sleeps on the sofa", "The stock market fell sharply", "A kitten is napping on the couch"]
    pairs = answers("sentence-similarity", similar.run(topics).output)
    assert [(a.item, a.answer) for a in pairs][::2] == [("line 1", "line 3"), ("line 3", "line 1")]
    assert set(pairs[1].scores) == {"line 1", "line 3"}  # a line is never its own closest
    (query,) = answers("sentence-similarity", similar.run(topics, query="shares and prices").output)
    assert query.item == "query" and query.answer == "line 2" and set(query.scores) == {"line 1", "line 2", "line 3"}
    with pytest.raises(KeyError, match="no stress-test answers for ocr"):
        answers("ocr", {})


def test_telephone_band_removes_highs_and_lows():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tones = (100, 1000, 6000)
    audio = sum(np.sin(2 * np.pi * f * t) for f in tones).astype(np.float32)
    band = perturb("audio", "telephone", audio, 1.0)
    spectrum = np.abs(np.fft.rfft(band)) / np.abs(np.fft.rfft(audio)).max()
    kept = {f: spectrum[f] for f in tones}  # 1 s of audio: bin f is f Hz
    assert kept[1000] > 0.9 and kept[100] < 0.1 and kept[6000] < 0.01, kept
    assert perturb("audio", "telephone", audio, 0.0) is audio


def test_text_curves_fall_where_the_model_reads_the_change():
    sentiment, languages = load_bundled("sentiment-analysis"), load_bundled("language-identification")
    vader = headline(robustness_curve(runner("vader", "sentiment-analysis"), sentiment, "typos"), "accuracy")
    assert vader[-1] < vader[0] - 0.3 and all(b <= a + 0.05 for a, b in zip(vader, vader[1:])), vader
    fasttext = headline(robustness_curve(runner("fasttext_lid176", "language-identification"), languages, "casing"),
                        "accuracy")
    assert fasttext[-1] < fasttext[0] - 0.2, fasttext  # fastText's character n-grams are case-sensitive
    pairs = load_bundled("sentence-similarity")
    minilm = headline(robustness_curve(runner("all_minilm_l6_v2", "sentence-similarity"), pairs, "casing",
                                       (0.0, 1.0)), "spearman")
    assert minilm[0] == pytest.approx(minilm[1], abs=1e-6), minilm  # an uncased tokenizer: casing changes nothing


def test_noise_raises_whisper_word_error_rate():
    clips = load_bundled("speech-recognition")
    few = Dataset(clips.task, clips.source, clips.ids[:4], clips.inputs[:4], clips.labels[:4])
    wer = headline(robustness_curve(runner("whisper_tiny_en_ct2", "speech-recognition"), few, "noise", (0.0, 1.0)),
                   "wer")
    assert wer[0] < 0.2 and wer[1] > wer[0] + 0.2, wer
