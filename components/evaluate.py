"""Run a runner over a labelled set and score it with each task's metric.

Metrics come from well-kept libraries: jiwer (WER, CER), scikit-learn (accuracy, macro-F1),
scipy (Spearman rank correlation); top-k is accepted-set aware (any accepted class counts).
"""
from __future__ import annotations

import math
import unicodedata
from typing import Any, Callable, Sequence

from components.datasets import Dataset

EVAL_BATCH = 16  # samples per runner call during evaluation, where the task batches
BATCHED_TASKS = ("image-classification", "language-identification", "sentiment-analysis",
                 "sentence-similarity")
METRIC_NAMES = {
    "image-classification": ("top1", "top5"),
    "speech-recognition": ("wer", "cer"),
    "language-identification": ("accuracy", "macro_f1"),
    "sentiment-analysis": ("accuracy", "macro_f1"),
    "sentence-similarity": ("spearman",),
}
LOWER_IS_BETTER = ("wer", "cer")


# ---------------------------------------------------------------- metrics

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


def compute_metrics(task: str, labels: Sequence[Any], predictions: Sequence[Any]) -> dict[str, float | None]:
    """The task's metrics for predictions (as :func:`predictions_from_output` gives them)."""
    if task == "image-classification":
        return {"top1": topk_accuracy(predictions, labels, 1), "top5": topk_accuracy(predictions, labels, 5)}
    if task == "speech-recognition":
        return {"wer": word_error_rate(labels, predictions), "cer": char_error_rate(labels, predictions)}
    if task in ("language-identification", "sentiment-analysis"):
        clean = language_code if task == "language-identification" else sentiment_class
        truth, predicted = [clean(x) for x in labels], [clean(x) for x in predictions]
        return {"accuracy": accuracy(truth, predicted), "macro_f1": macro_f1(truth, predicted)}
    if task == "sentence-similarity":
        return {"spearman": spearman(labels, predictions)}
    raise ValueError(f"no metric for task {task}")


# ---------------------------------------------------------------- running a runner over a set

def runner_input(task: str, samples: Sequence[Any]) -> Any:
    """One runner call's input for a chunk of samples (pairs become a flat list of sentences)."""
    if task == "sentence-similarity":
        return [sentence for pair in samples for sentence in pair]
    if task in BATCHED_TASKS:
        return list(samples)
    (sample,) = samples
    return sample


def predictions_from_output(task: str, output: Any, n: int) -> list[Any]:
    """The ``n`` per-sample predictions in one runner output, in the form compute_metrics takes."""
    if task == "image-classification":
        rows = output if output and isinstance(output[0], list) else [output]
        return [[p["index"] for p in row] for row in rows]
    if task == "speech-recognition":
        return [output["text"]]
    if task == "language-identification":
        return [row["lang"] for row in output]
    if task == "sentiment-analysis":
        return [row["label"] for row in output]
    if task == "sentence-similarity":
        matrix = output["matrix"]
        return [float(matrix[2 * i][2 * i + 1]) for i in range(n)]
    raise ValueError(f"no evaluation for task {task}")


def evaluate(runner: Any, dataset: Dataset, tick: Callable[[int], None] | None = None,
             batch_size: int = EVAL_BATCH) -> tuple[dict[str, float | None], list[Any]]:
    """Run ``runner`` over every labelled sample; (metrics, predictions).

    ``tick(n)`` is called after each runner call with the samples it scored (it may raise to cancel).
    """
    if not dataset.labelled:
        raise ValueError(f"the {dataset.source} set for {dataset.task} has no labels")
    task = dataset.task
    step = batch_size if task in BATCHED_TASKS else 1
    predictions: list[Any] = []
    for start in range(0, len(dataset), step):
        chunk = dataset.inputs[start : start + step]
        output = runner.run(runner_input(task, chunk)).output
        predictions.extend(predictions_from_output(task, output, len(chunk)))
        if tick is not None:
            tick(len(chunk))
    return compute_metrics(task, dataset.labels, predictions), predictions
