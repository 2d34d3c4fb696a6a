"""Adapt: feature extraction, transfer learning and few-shot learning on a user's labelled set.

    python -m components.adapt --task image-classification|text-classification|audio-classification \\
        --backbones ID[,ID] --dataset bundled|PATH [--head logistic|finetune] [--shots 1,2,4,8] \\
        [--seed N] [--baseline] --json OUT.json

OUT.json is a list with one row per (backbone, weights): held-out accuracy and macro-F1 of a head
trained on the backbone's frozen features with their 95% intervals (``metrics_ci``: Wilson, bootstrap),
the few-shot curve (each point with its 95% interval over draws), feature size and timings, and the
environment. ``--baseline`` adds each backbone with random weights (and TF-IDF for text, weights
"none"). Any error exits 1 with one line on stderr.
"""
from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from components.adapt.audio import can_embed_audio
from components.adapt.features import embed_items, extract
from components.adapt.heads import (
    Scores,
    TorchHead,
    fewshot_curve,
    fewshot_shots,
    logistic_head,
    score,
    split,
    tfidf_head,
)
from components.core import (
    CatalogEntry,
    CatalogError,
    CliError,
    classification_intervals,
    default_catalog,
    description,
    entries_by_ids,
    fail,
    get_task,
    tasks_with,
    write_json,
)
from components.datasets import LabelledSet, load_labelled

HEADS = ("logistic", "finetune")
TFIDF_ID = "tfidf"
MAX_MISCLASSIFIED = 24

Progress = Callable[[float, str], None]
EpochProgress = Callable[[int, int, float, float], None]

# threadpool_limits changes the whole process and is not re-entrant: one fit at a time sets it
BLAS_LIMIT = threading.RLock()


@dataclass
class AdaptRun:
    """One trained head: its JSON row, the head itself, and what the page draws from."""

    row: dict[str, Any]
    head: Any  # fitted; predict / predict_proba / classes_
    features: np.ndarray | None  # frozen features of every sample (None for TF-IDF)
    test: np.ndarray  # held-out sample indices
    predicted: list[str]  # predictions on ``test``
    scores: Scores
    labels: tuple[str, ...]  # every sample's true class

    @property
    def misclassified(self) -> list[dict[str, Any]]:
        """Held-out samples the head got wrong: index into the set, true and predicted class."""
        return [{"index": int(i), "true": self.labels[i], "predicted": p}
                for i, p in zip(self.test, self.predicted) if p != self.labels[i]][:MAX_MISCLASSIFIED]


def adapt_backbones(task: str, extra_dir: str | None = None) -> list[CatalogEntry]:
    """Catalog models with real weights here (or downloadable) whose features suit ``task``; an
    architecture-only model is left out: its random weights are the baseline row, not a backbone."""
    from components.models import compute_availability, runner_tasks

    return [e for e in default_catalog() if gives_features(e, task) and compute_availability(e, extra_dir).runnable
            and set(get_task(task).adapt.sources) & set(runner_tasks(e, "real", extra_dir))]


def gives_features(entry: CatalogEntry, task: str) -> bool:
    """False for models that run a task's inputs but have no encoder to pool (PocketSphinx)."""
    return get_task(task).input_kind != "audio" or can_embed_audio(entry)


def fit_head(mode: str, x: np.ndarray, y: Sequence[str], classes: Sequence[str], seed: int,
             epoch_progress: EpochProgress | None = None) -> Any:
    if mode == "logistic":
        return logistic_head(seed).fit(x, list(y))
    if mode == "finetune":
        return TorchHead(classes, seed=seed).fit(x, y, progress=epoch_progress)
    raise CliError(f"unknown head '{mode}' (heads: {', '.join(HEADS)})")


def train_backbone(entry: CatalogEntry, weights: str, dataset: LabelledSet, head: str = "logistic",
                   shots: Sequence[int] | None = None, seed: int = 0, progress: Progress | None = None,
                   epoch_progress: EpochProgress | None = None, manager: Any = None,
                   extra_dir: str | None = None) -> AdaptRun:
    """Features (cached) -> head on the train split -> held-out scores -> few-shot curve."""
    def feature_progress(fraction: float, message: str) -> None:
        if progress:
            progress(0.85 * fraction, message)

    features = extract(entry, weights, dataset, feature_progress, manager, extra_dir)
    if progress:
        progress(0.85, f"{entry.name} ({weights} weights): training the {head} head")
    start = time.perf_counter()
    x, labels = features.array, np.asarray(dataset.labels)
    train, test = split(dataset.labels, seed)
    with BLAS_LIMIT, threadpool_limits(1):  # small fits: one BLAS thread is ~10x faster on a busy 2-core box
        model = fit_head(head, x[train], labels[train], dataset.classes, seed, epoch_progress)
        predicted = [str(p) for p in model.predict(x[test])]
        curve = fewshot_curve(labels, train, test, fewshot_shots(labels[train].tolist(), shots),
                              lambda chosen: logistic_head(seed).fit(x[chosen], labels[chosen]).predict(x[test]),
                              seed)
    scores = score(labels[test], predicted, dataset.classes)
    row = _row(entry.id, entry.name, weights, dataset, head, train, scores, curve, x.shape[1],
               features.seconds, time.perf_counter() - start)
    row["metrics_ci"] = classification_intervals(labels[test].tolist(), predicted)
    row["features_from"] = features.source
    return AdaptRun(row, model, x, test, predicted, scores, dataset.labels)


def train_tfidf(dataset: LabelledSet, shots: Sequence[int] | None = None, seed: int = 0) -> AdaptRun:
    """The no-deep-learning reference for text: TF-IDF + logistic regression, same split and curve."""
    if get_task(dataset.task).input_kind != "text":
        raise CliError("the TF-IDF baseline is for text-classification only")
    start = time.perf_counter()
    texts, labels = np.asarray(list(dataset.inputs), dtype=object), np.asarray(dataset.labels)
    train, test = split(dataset.labels, seed)
    with BLAS_LIMIT, threadpool_limits(1):
        model = tfidf_head(seed).fit(list(texts[train]), list(labels[train]))
        predicted = [str(p) for p in model.predict(list(texts[test]))]
        curve = fewshot_curve(labels, train, test, fewshot_shots(labels[train].tolist(), shots),
                              lambda chosen: tfidf_head(seed).fit(list(texts[chosen]), list(labels[chosen]))
                              .predict(list(texts[test])), seed)
    dim = len(model[0].vocabulary_)
    scores = score(labels[test], predicted, dataset.classes)
    row = _row(TFIDF_ID, "TF-IDF + logistic regression", "none", dataset, "logistic", train, scores, curve,
               dim, 0.0, time.perf_counter() - start)
    row["metrics_ci"] = classification_intervals(labels[test].tolist(), predicted)
    row["features_from"] = "computed"
    return AdaptRun(row, model, None, test, predicted, scores, dataset.labels)


def _row(backbone_id: str, name: str, weights: str, dataset: LabelledSet, head: str, train: np.ndarray,
         scores: Scores, curve: list[dict[str, float]], dim: int, embed_s: float, train_s: float) -> dict[str, Any]:
    return {
        "backbone_id": backbone_id, "backbone_name": name, "weights": weights, "task": dataset.task,
        "dataset": dataset.source, "classes": list(dataset.classes), "n_train": int(len(train)),
        "n_test": int(len(dataset) - len(train)), "head": head, "accuracy": scores.accuracy,
        "macro_f1": scores.macro_f1,
        "per_class_accuracy": scores.per_class_accuracy, "confusion": scores.confusion, "fewshot": curve,
        "feature_dim": int(dim), "embed_s": round(embed_s, 3), "train_s": round(train_s, 3),
    }


def classify(run: AdaptRun, entry: CatalogEntry | None, item: Any, manager: Any = None,
             extra_dir: str | None = None) -> list[tuple[str, float]]:
    """'Try it': the trained head's classes for one new input, best first, with probabilities."""
    from components.adapt.features import backbone_runner

    if entry is None:  # TF-IDF
        x: Any = [item]
    else:
        runner = backbone_runner(entry, run.row["task"], run.row["weights"], manager, extra_dir)
        x = embed_items(runner, run.row["task"], [item])
    probabilities = run.head.predict_proba(x)[0]
    classes = [str(c) for c in run.head.classes_]
    return sorted(zip(classes, map(float, probabilities)), key=lambda t: -t[1])


# ---------------------------------------------------------------- CLI

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.adapt", description=description(__doc__))
    parser.add_argument("--task", required=True, choices=tasks_with("adapt"))
    parser.add_argument("--backbones", required=True, help="comma-separated catalog ids")
    parser.add_argument("--dataset", default="bundled", help="'bundled' (default) or a ZIP / CSV path")
    parser.add_argument("--head", choices=HEADS, default="logistic")
    parser.add_argument("--shots", default=None, help="few-shot k per class, e.g. 1,2,4,8 (default: powers of 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", action="store_true", help="add random-weights rows (and TF-IDF for text)")
    parser.add_argument("--json", required=True, type=Path, help="where to write the rows")
    return parser.parse_args(argv)


def parse_shots(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        shots = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise CliError(f"--shots must be comma-separated integers, not '{text}'") from None
    if not shots or min(shots) < 1:
        raise CliError("--shots must be integers >= 1")
    return shots


def resolve_backbones(task: str, ids: str) -> list[CatalogEntry]:
    from components.models import runner_tasks

    try:
        named = entries_by_ids(ids, "--backbones")
    except ValueError as exc:
        raise CliError(str(exc)) from None
    entries = []
    for entry in named:
        runnable = runner_tasks(entry, "real")
        if not gives_features(entry, task) or not set(get_task(task).adapt.sources) & set(runnable):
            raise CliError(f"{entry.id} cannot give features for {task} here "
                           f"(it runs: {', '.join(runnable) or 'nothing here'})")
        entries.append(entry)
    return entries


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Validate everything first, then one row per (backbone, weights)."""
    from components.models import configure_torch, environment

    shots = parse_shots(args.shots)
    entries = resolve_backbones(args.task, args.backbones)
    dataset = load_labelled(args.task, args.dataset)
    env = environment(configure_torch())
    runs = []
    for entry in entries:
        for weights in ("real", "random") if args.baseline else ("real",):
            runs.append(train_backbone(entry, weights, dataset, args.head, shots, args.seed))
    if args.baseline and get_task(args.task).input_kind == "text":
        runs.append(train_tfidf(dataset, shots, args.seed))
    return [{**r.row, "env": env} for r in runs]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from components.datasets import DatasetError
    from components.models import CannotRun

    try:
        rows = run(args)
        write_json(args.json, rows)
    except (CliError, CatalogError, DatasetError, CannotRun, OSError, KeyboardInterrupt) as exc:
        return fail(exc)
    for row in rows:
        ci = {k: f" [{v[0]:.3f}, {v[1]:.3f}]" if v else "" for k, v in row["metrics_ci"].items()}
        print(f"{row['backbone_id']:<22} {row['weights']:<6} accuracy {row['accuracy']:.3f}{ci['accuracy']}  "
              f"macro-F1 {row['macro_f1']:.3f}{ci['macro_f1']}  embed {row['embed_s']:.1f} s  "
              f"train {row['train_s']:.1f} s")
    print(f"wrote {len(rows)} row(s) to {args.json}")
    return 0

