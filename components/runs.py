"""A comparison recorded in the history as it runs, and resumed from there after a crash.

The CLI (``--resume RUN_ID``) and the Compare page (Resume) share this: a :class:`RunPlan` says what a
run measures (task, set, models, runtimes, settings) and is stored in the run's ``meta``; each finished
row is saved at once; resuming re-reads the plan and measures only the rows the history lacks.
"""
from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from components.benchmark import BenchmarkConfig, BenchmarkResult, Comparison, compare
from components.catalog import CatalogEntry
from components.datasets import Dataset
from components.executors.base import Executor, row_key
from components.store import FINISHED, HistoryStore

CANCELLED, INCOMPLETE = "cancelled", "incomplete"  # statuses of a run that can be resumed (and "running")


class ResumeError(ValueError):
    """A run cannot be resumed; the message (one line) says why."""


@dataclass(frozen=True)
class RunPlan:
    """What a comparison measures; ``dataset_ref`` is "bundled", a path on this machine, or None (an upload)."""

    task: str
    model_ids: tuple[str, ...]
    runtimes: tuple[str, ...]
    config: BenchmarkConfig
    dataset_ref: str | None = "bundled"

    @property
    def row_keys(self) -> list[str]:
        return [row_key(m, r) for m in self.model_ids for r in self.runtimes]

    def meta(self) -> dict[str, Any]:
        config = asdict(self.config)
        return {"runs": config.pop("runs"), "warmup": config.pop("warmup"), **config,
                "models": list(self.model_ids), "runtimes": list(self.runtimes), "dataset_ref": self.dataset_ref}

    @classmethod
    def from_run(cls, run: dict[str, Any]) -> "RunPlan":
        meta = run["meta"]
        try:
            config = BenchmarkConfig(runs=meta["runs"], warmup=meta["warmup"],
                                     batch_sizes=tuple(meta["batch_sizes"]), weights=meta["weights"],
                                     models_dir=meta.get("models_dir"))
            return cls(run["task"], tuple(meta["models"]), tuple(meta["runtimes"]), config, meta["dataset_ref"])
        except (KeyError, TypeError, ValueError):
            raise ResumeError(f"run #{run['id']} was saved without its plan (an older run): it cannot be "
                              f"resumed") from None


def dataset_ref(source: str | Path) -> str:
    """How the plan names a set: "bundled", or the absolute path of a file or folder."""
    return "bundled" if str(source) == "bundled" else str(Path(source).expanduser().resolve())


def load_resumable(store: HistoryStore, run_id: int) -> tuple[RunPlan, list[dict[str, Any]]]:
    """The plan of an unfinished run and the results it saved; ResumeError when it cannot go on."""
    try:
        run = store.load_run(run_id)
    except KeyError:
        raise ResumeError(f"no saved run with id {run_id}") from None
    status = run["meta"].get("status", FINISHED)
    if status == FINISHED:
        raise ResumeError(f"run #{run_id} has finished: nothing to resume")
    plan = RunPlan.from_run(run)
    if plan.dataset_ref is None:
        raise ResumeError(f"run #{run_id} measured an uploaded set ({run['dataset']}), which is not kept: "
                          f"upload it again and run the comparison")
    return plan, run["results"]


def done_keys(results: Sequence[dict[str, Any]]) -> set[str]:
    """The rows (by row_key) a run has saved."""
    return {row_key(r["model_id"], r.get("runtime", "eager")) for r in results}


def run_recorded(store: HistoryStore | None, plan: RunPlan, entries: Sequence[CatalogEntry], dataset: Dataset, *,
                 run_id: int | None = None, skip: Sequence[str] = (), executor: Executor | None = None,
                 progress: Callable[[float, str], None] | None = None, cancel: Any = None,
                 stop_on_error: bool = False, on_result: Callable[[BenchmarkResult], None] | None = None,
                 on_start: Callable[[int], None] | None = None,
                 ) -> tuple[int | None, Comparison]:
    """Run ``plan`` (or, with ``run_id``, the rows of that run not in ``skip``), saving each row as it
    finishes; at the end the run is marked finished, cancelled, or incomplete (a row failed: resuming
    measures it again). A run cut short (a crash, Ctrl-C, a closed page) stays "running". Without a store
    (or when the history cannot be written) the comparison runs unrecorded and the run id is None."""
    if store is not None and run_id is None:
        try:
            run_id = store.start_run(plan.task, dataset.source, plan.model_ids, plan.meta())
        except (OSError, sqlite3.Error):
            store = None
    if run_id is not None and on_start is not None:
        on_start(run_id)

    def saved(result: BenchmarkResult) -> None:
        if store is not None and run_id is not None:
            try:
                store.add_result(run_id, result.to_dict())
            except (OSError, sqlite3.Error):  # the row is still returned; the run stays resumable
                pass
        if on_result is not None:
            on_result(result)

    outcome = compare(entries, dataset, plan.config, progress, cancel, stop_on_error, runtimes=plan.runtimes,
                      executor=executor, skip=set(skip), on_result=saved)
    if store is not None and run_id is not None:
        try:
            store.finish_run(run_id, status(outcome))
        except (OSError, sqlite3.Error):
            pass
    return run_id, outcome


def status(outcome: Comparison) -> str:
    """A recorded run's final status: cancelled, incomplete (some row failed) or finished."""
    return CANCELLED if outcome.cancelled else INCOMPLETE if outcome.failures else FINISHED
