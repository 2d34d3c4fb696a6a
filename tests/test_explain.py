"""Explanations (issue 10): Grad-CAM finds the right half of a cat|coffee photo, survives the
random-weights sanity check, IG is complete on a tiny classifier, robustness falls with blur, the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from composed_photos import SIDE, left_share

from components.core.catalog import get_entry
from components.core.inputs import InputError
from components.datasets import load_bundled
from components.explain.api import explain, resolve_target, runnable_method, sanity_check
from components.explain.stress import perturb, perturbations_for, robustness_curve
from components.models.factory import CannotRun, create_runner
from components.models.manager import ModelManager

ROOT = Path(__file__).resolve().parents[1]


def test_grad_cam_puts_each_class_on_its_half(lite0, cat_and_coffee):
    cat = explain(lite0, cat_and_coffee, "tiger cat")
    cup = explain(lite0, cat_and_coffee, "espresso")
    assert cat.method == "gradcam" and cat.details["layer"] == "bn2"
    assert cat.heatmap.shape == (2 * SIDE, 2 * SIDE) and 0 <= cat.heatmap.min() and cat.heatmap.max() <= 1
    assert left_share(cat.heatmap) >= 0.6, left_share(cat.heatmap)
    assert 1 - left_share(cup.heatmap) >= 0.6, left_share(cup.heatmap)
    assert len(cat.predicted) == 5 and cat.predicted[0]["score"] >= cat.predicted[-1]["score"]


def test_an_eager_runner_keeps_the_chosen_method(lite0):
    assert runnable_method(lite0, "scorecam") == ("scorecam", None) and runnable_method(lite0, None) == (None, None)


def test_random_weights_map_differs(lite0, cat_and_coffee):
    randomised = create_runner(get_entry("efficientnet_lite0"), "image-classification", "random")
    check = sanity_check(lite0, randomised, cat_and_coffee, "tiger cat")
    assert check.random.heatmap.shape == check.real.heatmap.shape
    assert check.correlation < 0.5, check.correlation


@pytest.mark.slow  # an ONNX export, then ~80 forward passes
def test_onnx_runtime_gets_occlusion_which_agrees_on_the_cat(cat_and_coffee):
    onnx = create_runner(get_entry("efficientnet_lite0"), "image-classification", "real", runtime="onnx")
    occluded = explain(onnx, cat_and_coffee, "tiger cat")
    assert occluded.method == "occlusion" and left_share(occluded.heatmap) >= 0.6
    with pytest.raises(CannotRun, match="explained by occlusion sensitivity, not Grad-CAM"):
        explain(onnx, cat_and_coffee, "tiger cat", "gradcam")  # the CLI: an explicit method is kept or refused
    method, why = runnable_method(onnx, "scorecam")  # the Vision page: occlusion, saying why
    assert method == "occlusion" and "no gradients or feature maps for Score-CAM" in why, why


def test_bad_requests_are_clear():
    labels = ("tabby, tabby cat", "espresso")
    assert resolve_target(labels, "tabby", "m") == 0 and resolve_target(labels, "1", "m") == 1
    with pytest.raises(InputError, match="'zebrafish' is not a class of m"):
        resolve_target(labels, "zebrafish", "m")
    lid = create_runner(get_entry("fasttext_lid176"), "language-identification", "real")
    with pytest.raises(CannotRun, match="no explainer for"):
        explain(lid, "bonjour")


def _tiny_classifier(folder: Path) -> None:
    """A 2-layer BERT sentiment classifier with a WordPiece vocabulary, weights wide enough to answer."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    words = "[PAD] [UNK] [CLS] [SEP] [MASK] the film was not good but ending wonderful terrible a".split()
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, initializer_range=0.5,
                        id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1})
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizer(vocab={w: i for i, w in enumerate(words)}).save_pretrained(folder)


def test_integrated_gradients_are_complete(tmp_path):
    import torch

    _tiny_classifier(tmp_path / "tests__tiny-sentiment")
    base = get_entry("distilbert_sst2")
    entry = replace(base, id="tiny_sentiment", source=replace(base.source, name="tests/tiny-sentiment"))
    runner = create_runner(entry, "sentiment-analysis", "real", manager=ModelManager(), extra_dir=str(tmp_path))
    text = "the film was not good but the ending was wonderful"
    for target in (None, "NEGATIVE"):
        found = explain(runner, text, target)
        index = 0 if target else ["negative", "positive"].index(found.predicted[0]["label"])
        batch = runner.preprocess([text])
        baseline = torch.where(batch["input_ids"] < 5, batch["input_ids"], torch.zeros_like(batch["input_ids"]))
        output = float(runner.infer(batch)[0, index])
        baseline_output = float(runner.infer({**batch, "input_ids": baseline})[0, index])
        total = sum(t["score"] for t in found.tokens)
        assert abs(output - baseline_output) > 0.05  # a difference worth attributing
        assert abs(total - (output - baseline_output)) <= 0.05 * abs(output - baseline_output), (total, output)
        assert [t["token"] for t in found.tokens] == text.split() and found.method == "ig"


def test_similarity_and_vader_words():
    minilm = create_runner(get_entry("all_minilm_l6_v2"), "sentence-similarity", "real")
    words = explain(minilm, ["A cat sleeps on the sofa", "A kitten is napping on the couch"])
    best = {s: max((t for t in words.tokens if t["sentence"] == s), key=lambda t: t["score"])["token"] for s in (1, 2)}
    assert best[1] in {"cat", "sleeps", "sofa"} and best[2] in {"kitten", "napping", "couch"}, best
    vader = create_runner(get_entry("vader"), "sentiment-analysis", "real")
    scores = {t["token"]: t for t in explain(vader, "The film was not good but the ending was wonderful").tokens}
    assert scores["good"]["lexicon"] > 0 > scores["good"]["score"]  # the negation rule flips it
    assert scores["wonderful"]["score"] > scores["wonderful"]["lexicon"] > 0  # words after "but" weigh more


def test_perturbations_are_seeded_and_zero_is_identity(chelsea):
    text = "The weather is nice today. I love this film."
    for name in perturbations_for("text"):
        assert perturb("text", name, text, 0.0) == text
        assert perturb("text", name, text, 0.8, seed=3) == perturb("text", name, text, 0.8, seed=3)
    assert "not" in perturb("text", "negation", text, 1.0).split()
    small = chelsea.resize((64, 48))
    for name in perturbations_for("image"):
        assert perturb("image", name, small, 1.0).size == small.size
    audio = np.sin(np.linspace(0, 2000, 16000)).astype(np.float32)
    assert len(perturb("audio", "speed", audio, 1.0)) == round(16000 / 1.5)
    noisy = perturb("audio", "noise", audio, 0.5)  # 20 dB SNR
    assert abs(10 * np.log10(np.mean(audio ** 2) / np.mean((noisy - audio) ** 2)) - 20) < 1


def test_blur_lowers_lite0_top1(lite0):
    points = robustness_curve(lite0, load_bundled("image-classification"), "blur", (0.0, 0.5, 1.0))
    top1 = [p["metrics"]["top1"] for p in points]
    one_photo = 1 / len(load_bundled("image-classification"))
    assert top1[-1] < top1[0] and all(b <= a + one_photo for a, b in zip(top1, top1[1:])), top1


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODEL_EXPLORER_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "components.explain", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_writes_a_heatmap_and_reports_errors_in_one_line(tmp_path, cat_and_coffee):
    photo, out = tmp_path / "both.png", tmp_path / "out.json"
    cat_and_coffee.save(photo)
    done = _cli("--model", "efficientnet_lite0", "--input", str(photo), "--target", "espresso", "--json", str(out))
    assert done.returncode == 0, done.stderr
    found = json.loads(out.read_text())
    assert found["model_id"] == "efficientnet_lite0" and found["method"] == "gradcam"
    assert found["target"] == "espresso" and len(found["predicted"]) == 5 and found["elapsed_ms"] > 0
    heatmap = np.asarray(found["heatmap"])
    assert list(heatmap.shape) == found["heatmap_shape"] == [2 * SIDE, 2 * SIDE]
    assert heatmap.min() >= 0 and heatmap.max() <= 1 and heatmap[:, SIDE:].sum() > heatmap[:, :SIDE].sum()
    failed = _cli("--model", "efficientnet_lite0", "--input", str(photo), "--target", "zebrafish", "--json", str(out))
    assert failed.returncode == 1 and failed.stderr.strip().count("\n") == 0
    assert failed.stderr.startswith("error: 'zebrafish' is not a class"), failed.stderr


def test_cli_text_tokens(tmp_path):
    pair, out = tmp_path / "pair.txt", tmp_path / "out.json"
    pair.write_text("A cat sleeps on the sofa\nA kitten is napping on the couch\n", encoding="utf-8")
    done = _cli("--model", "vader", "--input", str(pair), "--json", str(out))
    assert done.returncode == 0, done.stderr
    found = json.loads(out.read_text())
    assert found["method"] == "lexicon" and "heatmap" not in found
    assert [t["token"] for t in found["tokens"]][:3] == ["A", "cat", "sleeps"]
    failed = _cli("--model", "fasttext_lid176", "--input", str(pair), "--json", str(out))
    assert failed.returncode == 1 and failed.stderr.count("\n") == 1 and "fasttext_lid176" in failed.stderr
