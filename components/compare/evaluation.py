"""Run a runner over a labelled set and score it with its task's metrics (from the task table)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from components.core import Evaluation, get_task
from components.datasets import Dataset

EVAL_BATCH = 16  # samples per runner call during evaluation, where the task batches


def _evaluation(task: str) -> Evaluation:
    spec = get_task(task)
    if spec.evaluation is None:
        raise ValueError(f"no evaluation for task {task}")
    return spec.evaluation


def compute_metrics(task: str, labels: Sequence[Any], predictions: Sequence[Any]) -> dict[str, float | None]:
    """The task's metrics for predictions (as :func:`predictions_from_output` gives them)."""
    return _evaluation(task).score(labels, predictions)


def predictions_from_output(task: str, output: Any, n: int) -> list[Any]:
    """The ``n`` per-sample predictions in one runner output, in the form compute_metrics takes."""
    return _evaluation(task).predictions(output, n)


def runner_input(task: str, samples: Sequence[Any]) -> Any:
    """One runner call's input for a chunk of samples (pairs become a flat list of sentences)."""
    if _evaluation(task).format == "sentence-pairs":
        return [sentence for pair in samples for sentence in pair]
    if _evaluation(task).batched:
        return list(samples)
    (sample,) = samples
    return sample


def evaluate(runner: Any, dataset: Dataset, tick: Callable[[int], None] | None = None,
             batch_size: int = EVAL_BATCH) -> tuple[dict[str, float | None], list[Any]]:
    """Run ``runner`` over every labelled sample; (metrics, predictions).

    ``tick(n)`` is called after each runner call with the samples it scored (it may raise to cancel).
    """
    if not dataset.labelled:
        raise ValueError(f"the {dataset.source} set for {dataset.task} has no labels")
    task = dataset.task
    step = batch_size if _evaluation(task).batched else 1
    predictions: list[Any] = []
    for start in range(0, len(dataset), step):
        chunk = dataset.inputs[start : start + step]
        output = runner.run(runner_input(task, chunk)).output
        predictions.extend(predictions_from_output(task, output, len(chunk)))
        if tick is not None:
            tick(len(chunk))
    return compute_metrics(task, dataset.labels, predictions), predictions


def item_scores(task: str, labels: Sequence[Any], predictions: Sequence[Any]) -> dict[str, Any]:
    """Each sample's score per metric (the task's item scorer), for intervals and paired tests."""
    items = _evaluation(task).items
    return items(labels, predictions) if items is not None else {}


def uncertainty(task: str, labels: Sequence[Any], predictions: Sequence[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(per-item scores, 95% interval of each metric) of a row's predictions (components.core.stats)."""
    from components.core import intervals

    items = item_scores(task, labels, predictions)
    return items, intervals(items)
