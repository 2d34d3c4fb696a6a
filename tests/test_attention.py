"""Attention maps (issue 10): all-MiniLM-L6-v2 with its real weights, tiny local BERT and DistilBERT checkpoints
in the Hub format, and the engines that have no attention."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hub_checkpoints import build_all

from components.core.catalog import get_entry
from components.core.inputs import InputError
from components.explain.attention import (
    MAX_TOKENS,
    NoAttention,
    attention_maps,
    check_model,
    check_runtime,
    head_entropy,
    main,
)
from components.models.factory import create_runner
from components.models.manager import ModelManager
from components.models.runtimes.base import get_runtime

SENTENCE = "The cat sat on the mat because it was tired."


@pytest.fixture(scope="module")
def minilm():
    return create_runner(get_entry("all_minilm_l6_v2"), "sentence-similarity", "real")


def test_minilm_maps_are_its_own_softmax_and_leave_the_model_as_it_was(minilm):
    import torch

    before = minilm.run([SENTENCE]).output
    maps = attention_maps(minilm, SENTENCE)
    tokens = minilm.loaded.extras.tokenizer(SENTENCE)["input_ids"]
    assert maps.weights.shape == (6, 12, len(tokens), len(tokens)) and maps.weights.dtype == np.float32
    assert maps.tokens[:3] == ["[CLS]", "the", "cat"] and maps.tokens[-1] == "[SEP]" and not maps.truncated
    assert (maps.weights >= 0).all() and np.allclose(maps.weights.sum(-1), 1.0, atol=1e-5)
    # layer 1 recomputed by hand from the embeddings and the query / key projections
    model = minilm.model
    batch = minilm.loaded.extras.tokenizer([SENTENCE], return_tensors="pt")
    with torch.inference_mode():
        hidden = model.embeddings(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"])
        attention = model.encoder.layer[0].attention.self
        q, k = (proj(hidden).view(1, -1, 12, 32).transpose(1, 2) for proj in (attention.query, attention.key))
        expected = (q @ k.transpose(-1, -2) * attention.scaling).softmax(-1)[0].numpy()
    assert np.allclose(maps.weights[0], expected, atol=1e-5)
    assert not np.allclose(maps.weights[0, 0], maps.weights[0, 1], atol=1e-2)  # heads differ
    assert model.config._attn_implementation == "sdpa"  # switched back for everyone else
    after = minilm.run([SENTENCE]).output
    assert np.allclose(before["matrix"], after["matrix"], atol=1e-6)


def test_entropy_and_truncation(minilm):
    maps = attention_maps(minilm, SENTENCE)
    entropy = head_entropy(maps.weights)
    assert entropy.shape == (6, 12)
    assert (entropy >= -1e-9).all() and (entropy <= np.log2(len(maps.tokens)) + 1e-9).all()
    uniform = np.full((1, 1, 8, 8), 1 / 8)
    assert np.allclose(head_entropy(uniform), 3.0)  # evenly over 8 tokens: log2 8 bits
    long = attention_maps(minilm, "word " * 200)
    assert long.truncated and long.weights.shape[-1] == MAX_TOKENS
    longest = attention_maps(minilm, "word " * 600, max_tokens=5000)  # past its 512 positions: cut there
    assert longest.truncated and longest.weights.shape[-1] == 512


def test_tiny_local_bert_and_distilbert(tmp_path):
    hub = build_all(tmp_path, ["all_minilm_l12_v2", "distilbert_sst2"])
    manager = ModelManager()
    for model_id, task in (("all_minilm_l12_v2", "sentence-similarity"), ("distilbert_sst2", "sentiment-analysis")):
        runner = create_runner(get_entry(model_id), task, "real", manager=manager, extra_dir=str(hub.models_dir))
        maps = attention_maps(runner, "the cat sat on the sofa")
        assert maps.tokens == ["[CLS]", "the", "cat", "sat", "on", "the", "sofa", "[SEP]"], maps.tokens
        assert maps.weights.shape == (2, 2, 8, 8), (model_id, maps.weights.shape)
        assert np.allclose(maps.weights.sum(-1), 1.0, atol=1e-5)


def test_engines_without_attention_and_empty_text(minilm):
    for model_id, task in (("vader", "sentiment-analysis"), ("fasttext_lid176", "language-identification")):
        runner = create_runner(get_entry(model_id), task, "real")
        with pytest.raises(NoAttention, match="is not a transformer"):
            attention_maps(runner, SENTENCE)
    with pytest.raises(NoAttention, match="ONNX Runtime fp32 returns no attention weights"):
        check_runtime("all-MiniLM-L6-v2", get_runtime("onnx"))
    check_runtime("all-MiniLM-L6-v2", get_runtime("eager"))
    with pytest.raises(InputError, match="no text"):
        attention_maps(minilm, "  ")


def test_cli_writes_every_head_and_says_why_in_one_line(minilm, tmp_path, capsys):
    out = tmp_path / "attention.json"
    assert main(["--model", "all_minilm_l6_v2", "--text", SENTENCE, "--max-tokens", "8", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    weights = np.array(data["weights"])
    assert data["model_id"] == "all_minilm_l6_v2" and data["task"] == "sentence-similarity" and data["truncated"]
    assert data["tokens"][0] == "[CLS]" and len(data["tokens"]) == 8 and (data["layers"], data["heads"]) == (6, 12)
    assert weights.shape == (6, 12, 8, 8) and np.allclose(weights.sum(-1), 1.0, atol=1e-3)
    expected = attention_maps(minilm, SENTENCE, max_tokens=8)
    assert np.allclose(weights, expected.weights, atol=1e-4)
    assert np.allclose(data["head_entropy_bits"], head_entropy(expected.weights), atol=1e-3)
    for args, message in ((["--model", "vader"], "VADER sentiment is not a transformer"),
                          (["--model", "vader", "--runtime", "onnx"], "VADER sentiment is not a transformer"),
                          (["--model", "all_minilm_l6_v2", "--runtime", "onnx"], "returns no attention weights"),
                          (["--model", "efficientnet_lite0"], "runs no text task here"),
                          (["--model", "nope"], "unknown model id 'nope'")):
        capsys.readouterr()
        assert main([*args, "--text", SENTENCE, "--json", str(tmp_path / "no.json")]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "no.json").exists()


def test_a_model_without_attention_is_named_before_the_runtime_and_before_loading():
    """VADER and fastText have no attention on any runtime: their catalog entry says so (check_model loads nothing)."""
    for model_id, task in (("vader", "sentiment-analysis"), ("fasttext_lid176", "language-identification")):
        for runtime in ("eager", "onnx", "onnx-int8"):
            with pytest.raises(NoAttention, match="is not a transformer") as caught:
                check_model(get_entry(model_id), task, get_runtime(runtime))
            assert "runtime" not in str(caught.value), caught.value
    with pytest.raises(NoAttention, match="ONNX Runtime fp32 returns no attention weights"):
        check_model(get_entry("all_minilm_l6_v2"), "sentence-similarity", get_runtime("onnx"))
    check_model(get_entry("all_minilm_l6_v2"), "sentence-similarity", get_runtime("eager"))
