"""A comparison recorded in the history as it runs, and resumed from there after a crash.

The CLI (``--resume RUN_ID``) and the Compare page (Resume) share this: a :class:`RunPlan` says what a
run measures (task, set, models, runtimes, settings) and is stored in the run's ``meta``; each finished
row is saved at once; resuming re-reads the plan and measures only the rows the history lacks.

A run records its owner (pid and host of the process measuring it). A run still "running" is resumed
only when that owner is gone: its host is this one and its pid no longer exists. A run marked running
on another host is left to that host (only there can its process be checked).
"""
from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from components.compare.benchmark import BenchmarkConfig, BenchmarkResult, Comparison, compare
from components.compare.executors.base import Executor, row_key
from components.compare.store import FINISHED, RUNNING, HistoryStore
from components.core import CatalogEntry
from components.datasets import Dataset

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
    def from_run(cls, run: dict[str, Any]) -> RunPlan:
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
    busy = in_use(run)
    if busy:
        raise ResumeError(busy)
    plan = RunPlan.from_run(run)
    if plan.dataset_ref is None:
        raise ResumeError(f"run #{run_id} measured an uploaded set ({run['dataset']}), which is not kept: "
                          f"upload it again and run the comparison")
    return plan, run["results"]


def owner() -> dict[str, Any]:
    """Who measures a run: this process, on this host."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def in_use(run: dict[str, Any]) -> str | None:
    """Why ``run`` may still be measured by another process (one line), or None when it can be resumed:
    it is not "running", or it is and its owner is gone (this host, pid no longer alive; a run recorded
    before owners were stored counts as gone)."""
    meta = run["meta"]
    who = meta.get("owner")
    if meta.get("status") != RUNNING or not isinstance(who, dict):
        return None
    if who.get("host") != socket.gethostname():
        return (f"run #{run['id']} is marked running on {who.get('host')} (pid {who.get('pid')}): resume it there, "
                f"where its process can be checked")
    pid = who.get("pid")
    if isinstance(pid, int) and pid > 0 and psutil.pid_exists(pid):
        return f"run #{run['id']} is still running (process {who.get('pid')} on this host)"
    return None


def done_keys(results: Sequence[dict[str, Any]]) -> set[str]:
    """The rows (by row_key) a run has saved."""
    return {row_key(r["model_id"], r.get("runtime", "eager")) for r in results}


def run_recorded(store: HistoryStore | None, plan: RunPlan, entries: Sequence[CatalogEntry], dataset: Dataset, *,
                 run_id: int | None = None, skip: Sequence[str] = (), executor: Executor | None = None,
                 progress: Callable[[float, str], None] | None = None, cancel: Any = None,
                 stop_on_error: bool = False, on_result: Callable[[BenchmarkResult], None] | None = None,
                 on_start: Callable[[int], None] | None = None, session: str | None = None,
                 ) -> tuple[int | None, Comparison]:
    """Run ``plan`` (or, with ``run_id``, the rows of that run not in ``skip``), saving each row as it
    finishes; at the end the run is marked finished, cancelled, or incomplete (a row failed: resuming
    measures it again). An error that stops the whole run (ExecutorError, BenchmarkError, DatasetError, …)
    marks it incomplete, or deletes a new run that saved no row, and is raised again; an interruption
    (Ctrl-C, the page's Cancel or rerun: KeyboardInterrupt, Streamlit's stop) marks it cancelled and is
    raised again. Only a crash leaves it "running" (with its owner, see :func:`in_use`). Without a store
    (or when the history cannot be written) the comparison runs unrecorded and the run id is None.
    ``session``: the page session that starts a new run, kept in its meta (the page lists a session's own runs)."""
    started_here = run_id is None
    try:
        if store is not None and run_id is None:
            mine = {"session": session} if session else {}
            run_id = store.start_run(plan.task, dataset.source, plan.model_ids,
                                     {**plan.meta(), "owner": owner(), **mine})
        elif store is not None:
            store.claim_run(run_id, owner())
    except (OSError, sqlite3.Error):
        store = None
    if run_id is not None and on_start is not None:
        on_start(run_id)
    n_saved = 0

    def saved(result: BenchmarkResult) -> None:
        nonlocal n_saved
        if store is not None and run_id is not None:
            try:
                n_saved += store.add_result(run_id, result.to_dict())
            except (OSError, sqlite3.Error):  # the row is still returned; the run stays resumable
                pass
        if on_result is not None:
            on_result(result)

    def mark(final: str) -> None:
        if store is None or run_id is None:
            return
        try:
            if final == INCOMPLETE and started_here and not n_saved:
                store.delete_run(run_id)  # it measured nothing: nothing to resume
            else:
                store.finish_run(run_id, final)
        except (OSError, sqlite3.Error):
            pass

    try:
        outcome = compare(entries, dataset, plan.config, progress, cancel, stop_on_error, runtimes=plan.runtimes,
                          executor=executor, skip=set(skip), on_result=saved)
    except Exception:
        mark(INCOMPLETE)
        raise
    except BaseException:
        mark(CANCELLED)
        raise
    mark(status(outcome))
    return run_id, outcome


def status(outcome: Comparison) -> str:
    """A recorded run's final status: cancelled, incomplete (some row failed) or finished."""
    return CANCELLED if outcome.cancelled else INCOMPLETE if outcome.failures else FINISHED
