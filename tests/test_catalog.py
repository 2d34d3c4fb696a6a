"""The catalog: every seed model present, every entry valid, malformed files named precisely."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from components.core.catalog import CATALOG_PATH, CatalogError, load_catalog, parse_catalog

SEED_MODELS = [
    "AlexNet", "VGG16", "VGG19", "ResNet-18", "ResNet-50", "ResNet-101", "Inception v3", "Inception v4",
    "DenseNet", "EfficientNet", "MobileNet", "ViT", "Swin", "DeiT", "Word2Vec", "GloVe", "FastText", "ELMo",
    "BERT", "RoBERTa", "DistilBERT", "ALBERT", "BioBERT", "GPT-2", "GPT-3", "GPT-4", "LLaMA", "Falcon",
    "Mistral", "T5", "XLNet", "BLOOM", "DeepSpeech", "Wav2Vec2", "Whisper", "HuBERT", "Conformer", "CLIP",
    "ALIGN", "BLIP", "BLIP-2", "Flamingo", "PaLM-E", "Gemini", "SciBERT", "FinBERT", "MedCLIP", "CodeBERT",
    "StarCoder", "Codex",
]
OFFLINE_PACK = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "all_minilm_l6_v2",
                "fasttext_lid176", "whisper_tiny_en_ct2", "pocketsphinx_en_us", "silero_vad",
                "rapidocr_ppocrv4", "vader", "conse_effnet_minilm"]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize("seed_name", SEED_MODELS)
def test_every_seed_model_is_in_the_catalog(catalog, seed_name):
    wanted = _norm(seed_name)
    assert any(_norm(e.name).startswith(wanted) or _norm(e.family) == wanted for e in catalog), seed_name


def test_offline_pack_entries_present_and_flagged(catalog):
    by_id = {e.id: e for e in catalog}
    for model_id in OFFLINE_PACK:
        assert model_id in by_id, model_id
        assert by_id[model_id].source.kind == "pypi" and by_id[model_id].source.engine


def test_entries_are_complete(catalog):
    for e in catalog:
        assert len(e.description.split()) >= 20, f"{e.id}: description too short for a classroom"
        assert e.paper.url.startswith("http"), e.id
        assert e.params is not None or e.params_note, f"{e.id}: undisclosed params need a note"


def test_published_parameter_counts(catalog):
    by_id = {e.id: e for e in catalog}
    resnet50 = next(e for e in catalog if _norm(e.name) == "resnet50")
    bert = next(e for e in catalog if _norm(e.name).startswith("bertbase"))
    assert abs(resnet50.params - 25.6e6) / 25.6e6 < 0.01
    assert abs(bert.params - 110e6) / 110e6 < 0.01
    assert by_id["efficientnet_lite0"].params == 4_652_008  # timm tf_efficientnet_lite0, counted


def _valid_entry() -> dict:
    return {"id": "m1", "name": "M", "family": "F", "modality": "vision", "tasks": ["image-classification"],
            "year": 2020, "paper": {"title": "T", "url": "https://x"}, "params": 10, "license": "MIT",
            "access": "open", "source": {"kind": "timm", "name": "resnet18"}, "description": "d"}


def _dump(*entries: dict) -> str:
    return yaml.safe_dump({"models": list(entries)})


def test_valid_minimal_catalog_parses():
    (entry,) = parse_catalog(_dump(_valid_entry()))
    assert entry.id == "m1" and entry.tasks == ("image-classification",)


@pytest.mark.parametrize("mutate, expected", [
    (lambda e: e.pop("license"), r"entry 'm1': field 'license' is missing"),
    (lambda e: e.update(tasks=["teleportation"]), r"entry 'm1': field 'tasks' has unknown task 'teleportation'"),
    (lambda e: e.update(modality="smell"), r"entry 'm1': field 'modality' has unknown value 'smell'"),
    (lambda e: e.update(params="lots"), r"entry 'm1': field 'params' must be a positive integer"),
    (lambda e: e.update(year="2020"), r"entry 'm1': field 'year' must be int"),
    (lambda e: e["paper"].pop("url"), r"entry 'm1' paper: field 'url' is missing"),
    (lambda e: e.update(source={"kind": "pypi", "name": "x"}), r"'m1' source: field 'engine' is required"),
    (lambda e: e.pop("id"), r"entry #1: field 'id' is missing"),
])
def test_malformed_entry_names_entry_and_field(mutate, expected):
    entry = _valid_entry()
    mutate(entry)
    with pytest.raises(CatalogError, match=expected):
        parse_catalog(_dump(entry))


def test_duplicate_id_is_named():
    with pytest.raises(CatalogError, match=r"entry 'm1': field 'id' is a duplicate"):
        parse_catalog(_dump(_valid_entry(), _valid_entry()))


def test_bad_yaml_gives_line_number():
    with pytest.raises(CatalogError, match=r"not valid YAML at line 4"):
        parse_catalog("models:\n  - id: m1\n    name: [unclosed\n  - id: m2\n")


def test_missing_file_and_empty_catalog(tmp_path: Path):
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "nope.yaml")
    with pytest.raises(CatalogError, match="non-empty top-level 'models:'"):
        parse_catalog("models: []")


def test_shipped_catalog_is_the_default_path():
    assert CATALOG_PATH.name == "catalog.yaml" and CATALOG_PATH.exists()
