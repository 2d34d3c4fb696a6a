"""The Ray executor against the local one: the issue's goals for the Compare engine on a local cluster.

Run from the repository root:  python scripts/bench_ray.py [--runs 20] [--cpus 2]

1. The bundled Lite0 comparison (default settings: 20 timed runs, batches 1 / 4 / 16, all 9 photos) on
   the local executor and on a local Ray cluster: the same top-1 (goal), the Ray p50 over the local p50
   (goal 0.7-1.4x) and the Ray wall time minus the local one (goal <= 2 s).
2. Four image models (EfficientNet-Lite0/1/2 and ResNet-18 with random weights) on a ``--cpus`` Ray cluster,
   two rows at a time, against the sequential local run: wall ratio (goal <= 0.65), the median of
   ``--repeats`` alternating pairs (on a shared 2-core box one busy neighbour halves a row's core).

Both executors are warm when timed: one untimed pass of part 2 on each first (this process has imported
torch and loaded the models; the Ray workers have done the same), as a lab's standing cluster would be;
the output says whether each Ray row found its model already loaded on its worker. Ray's own start-up is
reported apart. The machines here are shared: read the ratios, not the times.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MODEL_EXPLORER_OFFLINE", "1")

FOUR = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "resnet18")
P50_RANGE, OVERHEAD_S, WALL_RATIO = (0.7, 1.4), 2.0, 0.65


def timed(label: str, run: Callable[[], Any]) -> tuple[Any, float]:
    """(the comparison ``run`` returns, its wall time); exits on a failed row."""
    start = time.perf_counter()
    outcome = run()
    elapsed = time.perf_counter() - start
    if outcome.failures:
        raise SystemExit(f"{label}: " + "; ".join(outcome.failures.values()))
    return outcome, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--runs", type=int, default=20, help="timed runs per model (default 20)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster (default 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="local / Ray pairs of part 2, alternating; the median ratio counts (default 3)")
    args = parser.parse_args()

    import ray

    from components.compare.benchmark import BenchmarkConfig, compare
    from components.compare.executors.ray_executor import RayExecutor
    from components.core.catalog import get_entry
    from components.datasets import load_bundled

    dataset = load_bundled("image-classification")
    config = BenchmarkConfig(runs=args.runs)
    four = [get_entry(m) for m in FOUR]
    started = time.perf_counter()
    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    print(f"Ray local cluster ({args.cpus} CPUs) started in {time.perf_counter() - started:.1f} s (not counted below)")
    on_ray = RayExecutor()

    timed("warm-up, local", lambda: compare(four, dataset, config))
    timed("warm-up, Ray", lambda: compare(four, dataset, config, executor=on_ray))

    pairs = []  # (local comparison, its wall, Ray comparison, its wall), alternating so that noise hits both
    for _ in range(args.repeats):
        pairs.append((*timed("four, local", lambda: compare(four, dataset, config)),
                      *timed("four, Ray", lambda: compare(four, dataset, config, executor=on_ray))))
    here, local_s = timed("Lite0, local", lambda: compare(four[:1], dataset, config))
    there, remote_s = timed("Lite0, Ray", lambda: compare(four[:1], dataset, config, executor=on_ray))

    (local,), (remote,) = here.results, there.results
    same_top1 = remote.metrics["top1"] == local.metrics["top1"]
    ratio = remote.latency_ms["p50"] / local.latency_ms["p50"]
    overhead = remote_s - local_s
    print("1. bundled Lite0 comparison, local executor vs local Ray cluster")
    print(f"   top-1 {local.metrics['top1']:.3f} vs {remote.metrics['top1']:.3f} "
          f"({'same' if same_top1 else 'DIFFERENT'}; goal: same)")
    print(f"   p50 {local.latency_ms['p50']:.1f} vs {remote.latency_ms['p50']:.1f} ms: ratio {ratio:.2f} "
          f"({'within' if P50_RANGE[0] <= ratio <= P50_RANGE[1] else 'OUTSIDE'} {P50_RANGE[0]}-{P50_RANGE[1]})")
    print(f"   wall {local_s:.1f} vs {remote_s:.1f} s: overhead {overhead:+.1f} s "
          f"({'within' if overhead <= OVERHEAD_S else 'OVER'} the {OVERHEAD_S:.0f} s goal; "
          f"model already loaded on the worker: {remote.load_cached})")
    print(f"2. four models ({', '.join(FOUR)}), sequential local vs {args.cpus}-CPU local Ray, {args.repeats} pairs")
    for sequential, sequential_s, parallel, parallel_s in pairs:
        print(f"   wall {sequential_s:.1f} vs {parallel_s:.1f} s: ratio {parallel_s / sequential_s:.2f}; "
              f"models already loaded on their workers: {sum(r.load_cached for r in parallel.results)} of 4; "
              "p50 ms local / Ray: " + ", ".join(f"{a.latency_ms['p50']:.0f} / {b.latency_ms['p50']:.0f}"
                                                 for a, b in zip(sequential.results, parallel.results)))
    wall = statistics.median(parallel_s / sequential_s for _, sequential_s, _, parallel_s in pairs)
    print(f"   median wall ratio {wall:.2f} ({'within' if wall <= WALL_RATIO else 'OVER'} the {WALL_RATIO} goal)")
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
