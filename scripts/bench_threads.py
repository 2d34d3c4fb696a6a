"""Why one torch thread: p50 latency of small offline-pack models with 1 vs 2 intra-op threads.

Run: python scripts/bench_threads.py [--runs 30]
Same runner path as the app (create_runner + Runner.run); threads switched with torch.set_num_threads
between interleaved blocks so both settings see the same machine noise.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MODEL_EXPLORER_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    import torch
    from PIL import Image
    from skimage import data

    from components.core.catalog import get_entry
    from components.models.factory import create_runner

    cases = [("efficientnet_lite0", "image-classification", Image.fromarray(data.chelsea())),
             ("all_minilm_l6_v2", "sentence-similarity",
              ["A man is playing a guitar.", "Someone plays the guitar.", "The market fell today."])]
    print(f"cores: {os.cpu_count()}  runs per setting: {args.runs}")
    print(f"{'model':22s} {'1 thread p50 ms':>16s} {'2 threads p50 ms':>17s}")
    for model_id, task, sample in cases:
        runner = create_runner(get_entry(model_id), task, "real")
        samples: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(3):
            runner.run(sample)
        for block in range(args.runs // 5):
            for threads in (1, 2) if block % 2 == 0 else (2, 1):
                torch.set_num_threads(threads)
                for _ in range(5):
                    start = time.perf_counter()
                    runner.run(sample)
                    samples[threads].append((time.perf_counter() - start) * 1000)
        print(f"{model_id:22s} {statistics.median(samples[1]):16.1f} {statistics.median(samples[2]):17.1f}")
    torch.set_num_threads(1)


if __name__ == "__main__":
    main()
