"""Headless benchmark, the same engine as the Compare page, for scripts and CI.

    python -m components.bench --task image-classification \\
        --models efficientnet_lite0,efficientnet_lite1 [--dataset bundled|PATH] [--runs N] \\
        [--warmup N] [--batch-sizes 1,4,16] [--weights real|random] [--runtime eager,onnx,onnx-int8] \
        --json OUT.json

OUT.json is a list with one object per (model, runtime) (see BenchmarkResult). Any error (unknown
model or runtime, a model that does not do the task, a bad dataset, a model that cannot run) exits
non-zero with one line on stderr and no traceback. With several runtimes, a row that fails (an ONNX
export) is reported on stderr and the other rows are still written; the exit status is then 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.catalog import CatalogEntry, CatalogError, entries_by_ids
from components.cli import CliError, fail, write_json
from components.tasks import TASKS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, help="task, e.g. image-classification")
    parser.add_argument("--models", required=True, help="comma-separated catalog ids")
    parser.add_argument("--dataset", default="bundled", help="'bundled' (default) or a CSV / ZIP path")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per model (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up runs per model (default 3)")
    parser.add_argument("--batch-sizes", default="1,4,16", help="throughput batch sizes (default 1,4,16)")
    parser.add_argument("--weights", choices=("real", "random"), default=None,
                        help="default: real when available, else random for architecture-only models")
    parser.add_argument("--runtime", default="eager",
                        help="comma-separated runtimes: eager (default), onnx, onnx-int8; one row each")
    parser.add_argument("--json", required=True, type=Path, help="where to write the results")
    return parser.parse_args(argv)


def resolve_models(task: str, ids: str, weights: str = "auto") -> list[CatalogEntry]:
    """Catalog entries for the comma-separated ids, each checked to run ``task`` here."""
    from components.availability import compute_availability
    from components.runners.factory import runner_tasks

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
    from components.runners.runtimes import runtime_names

    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in runtime_names()]
    if not names or unknown:
        raise CliError(f"unknown runtime '{', '.join(unknown) or text}' (runtimes: {', '.join(runtime_names())})")
    return names


def run(args: argparse.Namespace) -> tuple[list[dict], dict[str, str]]:
    """Validate everything first, then benchmark every (model, runtime); (rows, failures)."""
    from components.benchmark import BenchmarkConfig, compare
    from components.datasets import load_dataset

    weights = args.weights or "auto"
    entries = resolve_models(args.task, args.models, weights)
    if args.runs < 1 or args.warmup < 0:
        raise CliError("--runs must be >= 1 and --warmup >= 0")
    config = BenchmarkConfig(runs=args.runs, warmup=args.warmup, batch_sizes=batch_sizes(args.batch_sizes),
                             weights=weights)
    chosen = runtimes(args.runtime)
    dataset = load_dataset(args.task, args.dataset)

    def progress(fraction: float, message: str) -> None:
        print(f"\r[{fraction:4.0%}] {message:<60}", end="", file=sys.stderr, flush=True)

    outcome = compare(entries, dataset, config, stop_on_error=len(chosen) == 1,
                      progress=progress if sys.stderr.isatty() else None, runtimes=chosen)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return [result.to_dict() for result in outcome.results], outcome.failures


def summary_line(row: dict) -> str:
    metrics = ", ".join(f"{k} {v:.3f}" for k, v in row["metrics"].items() if v is not None)
    return (f"{row['model_id']:<24} {row['runtime']:<9} {row['weights']:<6} p50 {row['latency_ms']['p50']:9.3g} ms  "
            f"{metrics or row['metrics_note']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from components.benchmark import BenchmarkError
    from components.datasets import DatasetError

    try:
        rows, failures = run(args)
        if not rows:
            raise CliError("; ".join(failures.values()))
        write_json(args.json, rows)
    except (CliError, CatalogError, DatasetError, BenchmarkError, OSError, KeyboardInterrupt) as exc:
        return fail(exc)
    for row in rows:
        print(summary_line(row))
    print(f"wrote {len(rows)} result(s) to {args.json}")
    for reason in failures.values():
        print(f"error: {reason}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
