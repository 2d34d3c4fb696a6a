"""Metrics and per-task scoring: pure functions, no model code.

Metrics come from well-kept libraries: jiwer (WER, CER), scikit-learn (accuracy, macro-F1),
scipy (Spearman rank correlation); top-k is accepted-set aware (any accepted class counts).
The task table (:mod:`components.core.tasks`) names, per task, which scorer and which prediction
extractor to use.
"""
from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any


def topk_accuracy(ranked: Sequence[Sequence[int]], accepted: Sequence[frozenset[int]], k: int) -> float:
    """Share of samples whose first ``k`` predicted indices include any accepted index."""
    if not ranked:
        raise ValueError("no predictions to score")
    hits = sum(bool(set(pred[:k]) & set(ok)) for pred, ok in zip(ranked, accepted, strict=True))
    return hits / len(ranked)


def normalise_transcript(text: str) -> str:
    """Lowercase, drop apostrophes, turn other punctuation into spaces, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("\u2019", "")
    text = "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text)
    return " ".join(text.split())


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER (jiwer) after :func:`normalise_transcript` on both sides."""
    import jiwer

    refs, hyps = _normalised_pairs(references, hypotheses)
    return float(jiwer.wer(refs, hyps))


def char_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus CER (jiwer) after :func:`normalise_transcript` on both sides."""
    import jiwer

    refs, hyps = _normalised_pairs(references, hypotheses)
    return float(jiwer.cer(refs, hyps))


def _normalised_pairs(references: Sequence[str], hypotheses: Sequence[str]) -> tuple[list[str], list[str]]:
    refs = [normalise_transcript(r) for r in references]
    if not refs or not all(refs):
        raise ValueError("every reference transcript must have words")
    return refs, [normalise_transcript(h) for h in hypotheses]


def sentiment_class(label: str) -> str:
    """positive / negative / neutral from any model's or dataset's spelling; other labels kept."""
    label = label.strip().lower()
    for name in ("positive", "negative", "neutral"):
        if label.startswith(name[:3]):
            return name
    return label


def language_code(label: str) -> str:
    return label.strip().lower().replace("__label__", "")


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(truth, predicted))


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over every class seen in truth or predictions (a wrong class scores 0)."""
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def spearman(truth: Sequence[float], predicted: Sequence[float]) -> float | None:
    """Spearman rank correlation (scipy); None when either side is constant."""
    from scipy.stats import spearmanr

    if len(set(truth)) < 2 or len(set(predicted)) < 2:
        return None
    value = float(spearmanr(truth, predicted).statistic)
    return None if math.isnan(value) else value


# ---------------------------------------------------------------- per-task scorers

def score_topk(labels: Sequence[frozenset[int]], predictions: Sequence[Sequence[int]]) -> dict[str, float | None]:
    return {"top1": topk_accuracy(predictions, labels, 1), "top5": topk_accuracy(predictions, labels, 5)}


def score_transcripts(labels: Sequence[str], predictions: Sequence[str]) -> dict[str, float | None]:
    return {"wer": word_error_rate(labels, predictions), "cer": char_error_rate(labels, predictions)}


def score_spearman(labels: Sequence[float], predictions: Sequence[float]) -> dict[str, float | None]:
    return {"spearman": spearman(labels, predictions)}


def classification_scorer(clean: Callable[[str], str]) -> Callable[[Sequence[str], Sequence[str]],
                                                                    dict[str, float | None]]:
    """Accuracy and macro-F1 after ``clean`` normalises both sides' label spellings."""
    def score(labels: Sequence[str], predictions: Sequence[str]) -> dict[str, float | None]:
        truth, predicted = [clean(x) for x in labels], [clean(x) for x in predictions]
        return {"accuracy": accuracy(truth, predicted), "macro_f1": macro_f1(truth, predicted)}

    return score


# ---------------------------------------------------------------- per-item scores (for intervals and paired tests)

def items_topk(labels: Sequence[frozenset[int]], predictions: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Each sample's top-1 and top-5 hit (0/1)."""
    return {f"top{k}": [int(bool(set(pred[:k]) & set(ok))) for pred, ok in zip(predictions, labels, strict=True)]
            for k in (1, 5)}


def transcript_errors(references: Sequence[str], hypotheses: Sequence[str], unit: str) -> dict[str, list[int]]:
    """Each pair's edit errors and reference length in words or characters (jiwer), after
    :func:`normalise_transcript`; their sums give jiwer's corpus WER / CER exactly."""
    import jiwer

    align = jiwer.process_words if unit == "words" else jiwer.process_characters
    errors, lengths = [], []
    for ref, hyp in zip(*_normalised_pairs(references, hypotheses), strict=True):
        out = align(ref, hyp)
        errors.append(out.substitutions + out.deletions + out.insertions)
        lengths.append(out.substitutions + out.deletions + out.hits)
    return {"errors": errors, "lengths": lengths}


def items_transcripts(labels: Sequence[str], predictions: Sequence[str]) -> dict[str, Any]:
    return {"wer": transcript_errors(labels, predictions, "words"),
            "cer": transcript_errors(labels, predictions, "chars")}


def items_spearman(labels: Sequence[float], predictions: Sequence[float]) -> dict[str, Any]:
    return {"spearman": {"truth": [float(x) for x in labels], "predicted": [float(x) for x in predictions]}}


def classification_items(clean: Callable[[str], str]) -> Callable[[Sequence[str], Sequence[str]], dict[str, Any]]:
    """Each sample's hit and both label spellings after ``clean`` (macro-F1 needs the labels)."""
    def items(labels: Sequence[str], predictions: Sequence[str]) -> dict[str, Any]:
        truth, predicted = [clean(x) for x in labels], [clean(x) for x in predictions]
        return {"accuracy": [int(t == p) for t, p in zip(truth, predicted, strict=True)],
                "macro_f1": {"truth": truth, "predicted": predicted}}

    return items


# ---------------------------------------------------------------- runner output -> per-sample predictions

def ranked_indices(output: Any, n: int) -> list[list[int]]:
    """Image classification: each sample's ranked class indices."""
    rows = output if output and isinstance(output[0], list) else [output]
    return [[p["index"] for p in row] for row in rows]


def transcript(output: Any, n: int) -> list[str]:
    return [output["text"]]


def row_field(name: str) -> Callable[[Any, int], list[Any]]:
    """Per-line outputs (language id, sentiment): the ``name`` field of each row."""
    def predictions(output: Any, n: int) -> list[Any]:
        return [row[name] for row in output]

    return predictions


def pair_similarities(output: Any, n: int) -> list[float]:
    """Sentence pairs were fed as a flat list: each pair's cosine sits beside the diagonal."""
    matrix = output["matrix"]
    return [float(matrix[2 * i][2 * i + 1]) for i in range(n)]
