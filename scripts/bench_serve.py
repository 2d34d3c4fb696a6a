"""Playground runs through a local Ray Serve against the same runs in this process (EfficientNet-Lite0, eager).

Run from the repository root:  python scripts/bench_serve.py [--runs 30] [--rounds 3] [--cpus 2]

1. Latency: ``--runs`` single requests one after another, in-process (``create_runner(...).run(photo)``) and through
   Serve (``remote_run``), alternating request by request; the ratio of the medians of each request's wall time as
   the caller sees it (Serve: the handle call, pickling and the replica's batch window included), and the model's
   own latency (its stages) on each side.
2. Throughput: 16 requests sent at once from 16 threads, in-process (the runner's lock runs them one by one, as one
   app process does without batching) and through Serve (``@serve.batch``, MODEL_EXPLORER_BATCH_MAX /
   MODEL_EXPLORER_BATCH_WINDOW_MS, default 8 / 5 ms); ``--rounds`` alternating rounds, the median requests per second.

Both sides are warm (the model loaded, 5 untimed runs each); Ray's and Serve's start-up and the deployment are
reported apart. Serve runs on a local Ray on 127.0.0.1 with ``--cpus`` CPUs; the replica reserves one (one torch
thread, as here). The machines here are shared: read the ratios, with the load printed beside them.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MODEL_EXPLORER_OFFLINE", "1")
os.environ["MODEL_EXPLORER_SERVE_ADDRESS"] = "local"

TASK, CONCURRENT = "image-classification", 16


def wall_ms(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = call()
    return value, (time.perf_counter() - start) * 1000


def per_second(call: Callable[[int], Any], photos: list[Any]) -> tuple[float, list[Any]]:
    """(requests per second, their results) when CONCURRENT requests are sent at once."""
    with ThreadPoolExecutor(CONCURRENT) as pool:
        start = time.perf_counter()
        results = list(pool.map(lambda i: call(i % len(photos)), range(CONCURRENT)))
        return CONCURRENT / (time.perf_counter() - start), results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="sequential requests each way (default 30)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 16 concurrent requests each way (default 3)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster (default 2)")
    args = parser.parse_args()

    import ray

    from components.compare.executors import ray_executor
    from components.core import get_entry
    from components.datasets import load_bundled
    from components.models import create_runner
    from components.serve import remote_run

    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    entry, photos = get_entry("efficientnet_lite0"), list(load_bundled(TASK).inputs)
    started = time.perf_counter()
    with ray_executor._loopback_only():
        ray.init(address="local", num_cpus=args.cpus, runtime_env=ray_executor.runtime_env(""),
                 include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    _, deploy_ms = wall_ms(lambda: remote_run(entry, TASK, photos[0]))
    print(f"Ray ({args.cpus} CPUs) {time.perf_counter() - started - deploy_ms / 1000:.1f} s, Serve + deployment "
          f"+ first answer {deploy_ms / 1000:.1f} s (not counted below)")
    runner = create_runner(entry, TASK, "real", runtime="eager")
    sides = {"in-process": lambda i: runner.run(photos[i]), "Serve": lambda i: remote_run(entry, TASK, photos[i])}
    for i in range(5):
        for call in sides.values():
            call(i % len(photos))

    walls: dict[str, list[float]] = {name: [] for name in sides}
    model: dict[str, list[float]] = {name: [] for name in sides}
    for i in range(args.runs):
        for name, call in (sides.items() if i % 2 else reversed(sides.items())):
            result, ms = wall_ms(lambda: call(i % len(photos)))  # noqa: B023 - called at once
            walls[name].append(ms)
            model[name].append(result.latency_ms)
    median = {name: statistics.median(values) for name, values in walls.items()}
    print(f"sequential, {args.runs} requests each: median wall in-process {median['in-process']:.1f} ms, Serve "
          f"{median['Serve']:.1f} ms, ratio {median['Serve'] / median['in-process']:.2f} (model's own latency "
          f"{statistics.median(model['in-process']):.1f} vs {statistics.median(model['Serve']):.1f} ms)")

    rates: dict[str, list[float]] = {name: [] for name in sides}
    sizes: list[int] = []
    for _ in range(args.rounds):
        for name, call in sides.items():
            value, results = per_second(call, photos)
            rates[name].append(value)
            sizes += [result.batch_size for result in results] if name == "Serve" else []
    rate = {name: statistics.median(values) for name, values in rates.items()}
    print(f"{CONCURRENT} concurrent requests, median of {args.rounds} rounds: in-process {rate['in-process']:.1f}/s, "
          f"Serve {rate['Serve']:.1f}/s, ratio {rate['Serve'] / rate['in-process']:.2f} (rounds: "
          + ", ".join(f"{a:.1f} vs {b:.1f}" for a, b in zip(rates["in-process"], rates["Serve"]))
          + f"; Serve's batch sizes: mean {statistics.mean(sizes):.1f}, largest {max(sizes)})")
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")

    from ray import serve

    serve.shutdown()
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
