"""The executor seam of the Compare engine: what one comparison hands an executor, and what comes back.

An executor runs the (model, runtime) rows of a comparison somewhere (this process, a Ray cluster) and
yields each row's outcome as it finishes. It imports nothing of the engine: the engine hands it the
functions that measure a row and predict a shard (:class:`Job`), so a Ray worker runs the very code a
local run does. Cancel: the executor stops early once ``job.cancel`` is set (or lets the engine's
``Cancelled`` through); the engine marks the comparison cancelled.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from components.core import CatalogEntry

Progress = Callable[[float, str], None]


class ExecutorError(RuntimeError):
    """The executor cannot run at all (e.g. no Ray cluster at that address); one line says why."""


def row_key(model_id: str, runtime: str) -> str:
    """A row's name in failures and history: the model id, with its runtime unless eager."""
    return model_id if runtime == "eager" else f"{model_id} ({runtime})"


@dataclass(frozen=True)
class Row:
    """One (model, runtime) benchmark; ``index`` is its place in the comparison (results keep it)."""

    index: int
    entry: CatalogEntry
    runtime: str = "eager"

    @property
    def key(self) -> str:
        return row_key(self.entry.id, self.runtime)


@dataclass
class RowDone:
    """A finished row: its BenchmarkResult, or the one-line reason it failed."""

    row: Row
    result: Any = None
    error: str | None = None


class MeasureRow(Protocol):
    """Measure one row in this process (components.compare.benchmark.measure_row)."""

    def __call__(self, row: Row, dataset: Any, config: Any, progress: Progress | None,
                 cancel: threading.Event | None, manager: Any, position: int, n_rows: int,
                 accuracy: bool = True) -> RowDone: ...


class PredictShard(Protocol):
    """A row's per-sample predictions on samples ``start`` to ``stop`` (components.compare.benchmark.predict_shard)."""

    def __call__(self, row: Row, dataset: Any, config: Any, start: int, stop: int,
                 tick: Callable[[int], None] | None = None) -> list[Any]: ...


@dataclass(frozen=True)
class Job:
    """What every row of one comparison shares."""

    dataset: Any  # components.datasets.Dataset
    config: Any  # components.compare.benchmark.BenchmarkConfig
    measure: MeasureRow
    predict: PredictShard
    score: Callable[[str, Sequence[Any], Sequence[Any]], dict[str, float | None]]  # evaluate.compute_metrics
    work: Callable[[Row, Any, Any], float]  # a row's rough cost (benchmark.expected_work): longest first in parallel
    progress: Progress | None = None
    cancel: threading.Event | None = None
    manager: Any = None  # the local executor's ModelManager (None: the process-wide one)
    gate_downloads: bool = False  # from a page: a worker refuses a model missing from its cache unless allowed there


class Executor(Protocol):
    name: str
    shares_cache: bool  # its workers read this server's Hugging Face cache (the engine downloads into it first)

    def run(self, rows: Sequence[Row], job: Job) -> Iterator[RowDone]:
        """Run ``rows``, yielding each as it finishes; stop early when ``job.cancel`` is set."""
        ...
