"""The Compare page's controller, without streamlit: plain values in, plain data out.

The page's settings become a run plan (or a saved run is resumed), checked against a visitor's limits; the run is
recorded in the history with its notes; the rows shown are this session's plus the earlier runs overlaid from the
history; two rows are compared item by item. components.ui.views.compare draws all of it.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.compare.benchmark import BenchmarkConfig
from components.compare.charts import label, paired_comparison
from components.compare.executors.base import ExecutorError
from components.compare.runs import RunPlan, done_keys, run_recorded
from components.compare.store import HistoryStore
from components.core import CatalogEntry, Refused, get_entry, limits
from components.datasets import Dataset, load_dataset

Note = tuple[str, str]  # ("done" | "error" | "warning", text): what a run's pass says after the page reruns


@dataclass(frozen=True)
class Request:
    """What the page's settings ask for: the chosen models and runtimes, the timing settings and the set
    (``set_ref``: how the history names it, to resume the run; None for an upload)."""

    task: str
    entries: tuple[CatalogEntry, ...]
    runtimes: tuple[str, ...]
    runs: int
    warmup: int
    models_dir: str | None
    dataset: Dataset | None
    set_ref: str | None


@dataclass(frozen=True)
class RunSetup:
    """A run ready to start: its plan, models and set, and for a resumed run its id and saved rows."""

    run_id: int | None
    plan: RunPlan
    entries: list[CatalogEntry]
    dataset: Dataset
    saved: list[dict[str, Any]]


def plan_run(request: Request, resuming: tuple[int, RunPlan, list[dict]] | None,
             roots: Sequence[Path]) -> RunSetup:
    """The run the page starts: ``resuming`` (run id, plan, saved rows) reads its models and set again, else
    the request's settings make the plan. Raises DatasetError or KeyError (a saved run's set or model is gone)
    and ``limits.Refused`` (over a visitor's limits: nothing started)."""
    if resuming:
        run_id, plan, saved = resuming
        setup = RunSetup(run_id, plan, [get_entry(m) for m in plan.model_ids],
                         load_dataset(plan.task, plan.dataset_ref, roots=roots), list(saved))
    else:
        plan = RunPlan(request.task, tuple(e.id for e in request.entries), request.runtimes or ("eager",),
                       BenchmarkConfig(runs=request.runs, warmup=request.warmup, models_dir=request.models_dir),
                       request.set_ref)
        setup = RunSetup(None, plan, list(request.entries), request.dataset, [])
    check_limits(setup.plan, setup.dataset)
    return setup


def check_limits(plan: RunPlan, dataset: Dataset) -> None:
    """Raise ``limits.Refused`` (one line) when a run asks for more than a visitor may: models, runtimes, timed
    runs per model, samples in the set."""
    for limit, asked in ((limits.MAX_MODELS, len(plan.model_ids)), (limits.MAX_RUNTIMES, len(plan.runtimes)),
                         (limits.MAX_TIMED_RUNS, plan.config.runs), (limits.MAX_SET_SAMPLES, len(dataset))):
        limits.check(limit, asked)


def over_time(started: float) -> bool:
    """Whether a run started at ``started`` (time.perf_counter) is past the longest run a visitor may make."""
    return time.perf_counter() - started > limits.MAX_RUN_S.value()


def over_time_note() -> str:
    return (f"Stopped after {limits.MAX_RUN_S.value()} s, the longest run this server allows "
            f"({limits.MAX_RUN_S.env} raises it): Resume measures the rows not done.")


@dataclass(frozen=True)
class RunDone:
    """What a run's pass leaves: its id in the history (None: not saved), its failed rows and its notes."""

    run_id: int | None
    failures: dict[str, str]
    notes: list[Note]
    refused: bool = False  # over a visitor's limits before any row finished: the page keeps what it showed


def execute_run(setup: RunSetup, history: HistoryStore | None, executor: Any, show: Callable[[float, str], None],
                *, on_start: Callable[[int], None], session: str, on_result: Callable[[dict[str, Any]], None],
                slot: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext) -> RunDone:
    """Run ``setup`` (rows already saved are skipped) inside ``slot()``, recorded in ``history``;
    ``show(fraction, text)`` sees the progress with the time left, ``on_result`` each row as a dict. A run past
    the visitor's time limit stops after its current step, resumable. Its notes: its time, then any error or
    warning (rows that could not be saved to the history among them)."""
    started, too_long = time.perf_counter(), threading.Event()
    rows = [len(setup.saved)]

    def progress(fraction: float, message: str) -> None:
        if over_time(started):
            too_long.set()  # the run stops after its current step, resumable
        elapsed = time.perf_counter() - started
        eta = f" · about {elapsed * (1 - fraction) / fraction:.0f} s left" if fraction > 0.02 else ""
        show(min(fraction, 1.0), f"{message}{eta}")

    def finished(result: Any) -> None:
        rows[0] += 1
        on_result(result.to_dict())

    notes: list[Note] = []
    run_id, failures = setup.run_id, {}
    try:
        with slot():
            run_id, outcome = run_recorded(
                history, setup.plan, setup.entries, setup.dataset, run_id=run_id, skip=done_keys(setup.saved),
                executor=executor, progress=progress, cancel=too_long, on_start=on_start, session=session,
                on_result=finished)
        failures = outcome.failures
        if too_long.is_set() and outcome.cancelled:
            notes.append(("warning", over_time_note()))
    except Refused as exc:  # refused before its first step: nothing ran, so no "Done" line
        return RunDone(run_id, failures, [("error", str(exc))], refused=rows[0] == len(setup.saved))
    except ExecutorError as exc:
        notes.append(("error", str(exc)))
    if run_id is None and rows[0]:
        notes.append(("warning", "The results are shown but could not be saved to the history "
                                 f"({history.path if history else 'no history file'})."))
    return RunDone(run_id, failures, [("done", f"Done in {time.perf_counter() - started:.0f} s"), *notes])


def shown_rows(results: Sequence[dict[str, Any]], task: str, overlay: Sequence[int], store: HistoryStore | None,
               current_run: int | None) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """The rows the page shows: this session's results of ``task``, then the rows of each overlaid earlier run
    (labelled "run #id"; the run under way is not shown twice); and (run id, why) for each run that cannot be
    read."""
    shown = [dict(r, task=r.get("task", task)) for r in results]
    problems = []
    for run_id in overlay:
        if run_id == current_run and results:
            continue
        try:
            shown += [dict(r, run_label=f"run #{run_id}") for r in store.load_run(run_id)["results"]
                      if r.get("task", task) == task]
        except (KeyError, OSError, sqlite3.Error) as exc:
            problems.append((run_id, str(exc)))
    return shown, problems


def pair_key(a: dict[str, Any], b: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a paired comparison of rows ``a`` and ``b``: each row's label, run, items and timed runs
    (a new run of the same model has other timings), cheap to compute on every rerun."""
    def row(r: dict[str, Any]) -> tuple[Any, ...]:
        return (label(r), r.get("items_fingerprint"), r.get("n_samples"), tuple(r.get("latency_samples_ms") or ()))

    return row(a), row(b)


def pair_statements(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Rows ``a`` and ``b`` compared on the items both saw, in words (components.core.stats.paired_rows)."""
    return paired_comparison(a, b)["statements"]
