"""Headless benchmark, the same engine as the Compare page, for scripts and CI.

    python -m components.bench --task image-classification \\
        --models efficientnet_lite0,efficientnet_lite1 [--dataset bundled|PATH] [--runs N] \\
        [--warmup N] [--batch-sizes 1,4,16] [--weights real|random] [--runtime eager,onnx,onnx-int8] \
        [--executor local|ray [--address ADDR]] [--paired A,B] --json OUT.json
    python -m components.bench --resume RUN_ID [--executor local|ray [--address ADDR]] --json OUT.json

OUT.json is a list with one object per (model, runtime) (see BenchmarkResult). Any error (unknown
model or runtime, a model that does not do the task, a bad dataset, a model that cannot run) exits
non-zero with one line on stderr and no traceback. With several runtimes, a row that fails (an ONNX
export) is reported on stderr and the other rows are still written; the exit status is then 1.

``--dataset PATH`` takes a CSV, a ZIP or a folder; a folder or ZIP is streamed (thousands of samples,
decoded a batch at a time). ``--executor ray`` runs each row as a task on a Ray cluster: a local one, or
the one at ``--address`` (default: $MODEL_EXPLORER_RAY_ADDRESS). Every run is recorded in the history
(components.compare.store) row by row; ``--resume RUN_ID`` finishes a run that was cut short, measuring only
the rows it lacks, and writes all of the run's rows.

Every row carries ``metrics_ci`` (95% interval per metric) beside ``metrics``, ``latency_ci`` beside
``latency_ms`` and ``item_scores`` (per-sample scores). ``--paired A,B`` (two rows: a model id, or
``id@runtime``) compares them on the items both saw (exact McNemar for accuracy, a paired bootstrap for
WER / F1 / Spearman, Mann-Whitney U on the timed runs; components.core.stats), prints the verdicts and writes
them to OUT.paired.json.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from components.compare.executors import EXECUTORS
from components.compare.executors.base import row_key
from components.core import TASKS, CatalogEntry, CatalogError, CliError, description, entries_by_ids, fail, write_json


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.bench", description=description(__doc__))
    parser.add_argument("--task", help="task, e.g. image-classification (required unless --resume)")
    parser.add_argument("--models", help="comma-separated catalog ids (required unless --resume)")
    parser.add_argument("--dataset", default="bundled",
                        help="'bundled' (default), a CSV or ZIP file, or a folder (ZIPs and folders are streamed)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per model (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up runs per model (default 3)")
    parser.add_argument("--batch-sizes", default="1,4,16", help="throughput batch sizes (default 1,4,16)")
    parser.add_argument("--weights", choices=("real", "random"), default=None,
                        help="default: real when available, else random for architecture-only models")
    parser.add_argument("--runtime", default="eager",
                        help="comma-separated runtimes: eager (default), onnx, onnx-int8; one row each")
    parser.add_argument("--executor", choices=tuple(EXECUTORS), default="local",
                        help="local (default): one row after another here; ray: rows as tasks on a Ray cluster")
    parser.add_argument("--address", default=None,
                        help="Ray cluster address (with --executor ray; default $MODEL_EXPLORER_RAY_ADDRESS, "
                             "empty: start a local Ray)")
    parser.add_argument("--resume", type=int, default=None, metavar="RUN_ID",
                        help="finish an unfinished run from the history: only its missing rows are measured")
    parser.add_argument("--paired", default=None, metavar="A,B",
                        help="compare two rows (model id, or id@runtime) on the same items; writes OUT.paired.json")
    parser.add_argument("--json", required=True, type=Path, help="where to write the results")
    args = parser.parse_args(argv)
    if args.resume is None and (args.task is None or args.models is None):
        parser.error("--task and --models are required (or --resume RUN_ID)")
    return args


def resolve_models(task: str, ids: str, weights: str = "auto") -> list[CatalogEntry]:
    """Catalog entries for the comma-separated ids, each checked to run ``task`` here."""
    from components.models import compute_availability, runner_tasks

    if task not in TASKS:
        raise CliError(f"unknown task '{task}' (tasks: {', '.join(TASKS)})")
    try:
        named = entries_by_ids(ids, "--models")
    except ValueError as exc:
        raise CliError(str(exc)) from None
    entries = []
    for entry in named:
        model_id = entry.id
        if task not in entry.tasks:
            raise CliError(f"{model_id} does not do {task} (it does: {', '.join(entry.tasks)})")
        runnable = runner_tasks(entry, weights)
        if not runnable:
            raise CliError(f"{model_id} cannot run here: {compute_availability(entry).reason}")
        if task not in runnable:
            raise CliError(f"this app has no {task} runner for {model_id} (it runs: {', '.join(runnable)})")
        entries.append(entry)
    return entries


def batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise CliError(f"--batch-sizes must be comma-separated integers, not '{text}'") from None
    if not sizes or min(sizes) < 1:
        raise CliError("--batch-sizes must be integers >= 1")
    return sizes


def runtimes(text: str) -> tuple[str, ...]:
    from components.models import runtime_names

    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in runtime_names()]
    if not names or unknown:
        raise CliError(f"unknown runtime '{', '.join(unknown) or text}' (runtimes: {', '.join(runtime_names())})")
    return names


def make_executor(args: argparse.Namespace) -> Any:
    """The executor the flags ask for (Ray is imported only when chosen)."""
    from components.compare.executors import make_executor

    if args.executor == "local" and args.address:
        raise CliError("--address needs --executor ray")
    return make_executor(args.executor, args.address)


def plan_from_args(args: argparse.Namespace) -> tuple[Any, list[CatalogEntry]]:
    """The run the flags describe, validated: (RunPlan, catalog entries)."""
    from components.compare.benchmark import BenchmarkConfig
    from components.compare.runs import RunPlan, dataset_ref

    weights = args.weights or "auto"
    entries = resolve_models(args.task, args.models, weights)
    if args.runs < 1 or args.warmup < 0:
        raise CliError("--runs must be >= 1 and --warmup >= 0")
    config = BenchmarkConfig(runs=args.runs, warmup=args.warmup, batch_sizes=batch_sizes(args.batch_sizes),
                             weights=weights)
    plan = RunPlan(args.task, tuple(e.id for e in entries), runtimes(args.runtime), config,
                   dataset_ref(args.dataset))
    return plan, entries


def run(args: argparse.Namespace) -> tuple[list[dict], dict[str, str]]:
    """Validate everything first, then benchmark every (model, runtime) missing from the run; (rows, failures)."""
    from components.compare.runs import done_keys, load_resumable, run_recorded
    from components.compare.store import HistoryStore
    from components.datasets import load_dataset

    store = HistoryStore()
    previous: list[dict] = []
    if args.resume is not None:
        plan, previous = load_resumable(store, args.resume)
        entries = resolve_models(plan.task, ",".join(plan.model_ids), plan.config.weights)
    else:
        plan, entries = plan_from_args(args)
    check_paired(args.paired, plan)
    executor = make_executor(args)
    dataset = load_dataset(plan.task, plan.dataset_ref)

    def progress(fraction: float, message: str) -> None:
        print(f"\r[{fraction:4.0%}] {message:<60}", end="", file=sys.stderr, flush=True)

    run_id, outcome = run_recorded(store, plan, entries, dataset, run_id=args.resume, skip=done_keys(previous),
                                   executor=executor, stop_on_error=stop_on_error(args, plan, previous),
                                   progress=progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if run_id is not None:
        print(f"run #{run_id} in the history {store.path}"
              + ("" if not outcome.cancelled and not outcome.failures else f" (finish it: --resume {run_id})"))
    order = {key: i for i, key in enumerate(plan.row_keys)}
    rows = previous + [result.to_dict() for result in outcome.results]
    rows.sort(key=lambda r: order.get(row_key(r["model_id"], r.get("runtime", "eager")), len(order)))
    return rows, outcome.failures


def stop_on_error(args: argparse.Namespace, plan: Any, previous: list[dict]) -> bool:
    """One runtime, run here, from scratch: the first failure ends the run (one line, no JSON). On Ray, a
    failed row (a worker that died) never stops the others."""
    return len(plan.runtimes) == 1 and not previous and args.executor == "local"


def paired_keys(text: str) -> tuple[str, str]:
    """The two row keys ``--paired A,B`` names (``id`` or ``id@runtime``)."""
    names = [n.strip() for n in text.split(",")]
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise CliError(f"--paired takes two different rows, A,B (a model id, or id@runtime), not '{text}'")
    keys = [row_key(model, runtime or "eager") for model, _, runtime in (n.partition("@") for n in names)]
    return keys[0], keys[1]


def check_paired(text: str | None, plan: Any) -> None:
    """Fail before measuring when ``--paired`` names a row the run does not have."""
    if text is None:
        return
    missing = [key for key in paired_keys(text) if key not in plan.row_keys]
    if missing:
        raise CliError(f"--paired names {', '.join(missing)}, not a row of this run (rows: {', '.join(plan.row_keys)})")


def paired_result(rows: list[dict], text: str) -> dict[str, Any]:
    """The paired comparison of the two rows ``--paired`` names (components.core.stats.paired_rows)."""
    from components.core import paired_rows

    by_key = {row_key(r["model_id"], r.get("runtime", "eager")): r for r in rows}
    key_a, key_b = paired_keys(text)
    missing = [key for key in (key_a, key_b) if key not in by_key]
    if missing:
        raise CliError(f"--paired: no result for {', '.join(missing)}")
    evaluation = TASKS[by_key[key_a]["task"]].evaluation
    labels = {m.key: m.label for m in evaluation.metrics} if evaluation else {}
    return paired_rows(by_key[key_a], by_key[key_b], key_a, key_b, labels)


def paired_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.paired.json")


def _with_interval(value: float, interval: list[float] | None) -> str:
    return f"{value:.3f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")


def summary_line(row: dict) -> str:
    ci = row.get("metrics_ci") or {}
    metrics = ", ".join(f"{k} {_with_interval(v, ci.get(k))}" for k, v in row["metrics"].items() if v is not None)
    return (f"{row['model_id']:<24} {row['runtime']:<9} {row['weights']:<6} p50 {row['latency_ms']['p50']:9.3g} ms  "
            f"{metrics or row['metrics_note']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from components.compare.benchmark import BenchmarkError
    from components.compare.executors.base import ExecutorError
    from components.compare.runs import ResumeError
    from components.datasets import DatasetError

    try:
        rows, failures = run(args)
        if not rows:
            raise CliError("; ".join(failures.values()))
        write_json(args.json, rows)
        paired = paired_result(rows, args.paired) if args.paired else None
        if paired is not None:
            write_json(paired_path(args.json), paired)
    except (CliError, CatalogError, DatasetError, BenchmarkError, ExecutorError, ResumeError, OSError,
            sqlite3.Error, KeyboardInterrupt) as exc:
        return fail(exc)
    for row in rows:
        print(summary_line(row))
    print(f"wrote {len(rows)} result(s) to {args.json}")
    if paired is not None:
        print("\n".join(paired["statements"]))
        print(f"wrote the paired comparison to {paired_path(args.json)}")
    for reason in failures.values():
        print(f"error: {reason}", file=sys.stderr)
    return 1 if failures else 0

