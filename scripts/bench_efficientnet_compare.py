"""Time a full bundled image-classification comparison of the three EfficientNet-Lite models.

Run from the repository root:  python scripts/bench_efficientnet_compare.py [--runs 20]

It runs the headless CLI exactly as a user would (a fresh process: imports, loads, warm-up, timed
runs, throughput at batch 1 / 4 / 16, evaluation on every bundled photo) and prints the wall time
against the 2-minute target, then one line per model from the JSON it wrote.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = "efficientnet_lite0,efficientnet_lite1,efficientnet_lite2"
TARGET_S = 120.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per model (default 20)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODEL_EXPLORER_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "efficientnet.json"
        command = [sys.executable, "-m", "components.bench", "--task", "image-classification",
                   "--models", MODELS, "--runs", str(args.runs), "--json", str(out)]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stderr.strip().splitlines()[-1], file=sys.stderr)
            return done.returncode
        rows = json.loads(out.read_text(encoding="utf-8"))
    print(f"$ python -m components.bench --task image-classification --models {MODELS} --runs {args.runs}")
    for row in rows:
        print(f"  {row['model_id']:<20} top-1 {row['metrics']['top1']:.3f}  top-5 {row['metrics']['top5']:.3f}  "
              f"p50 {row['latency_ms']['p50']:6.1f} ms  load {row['load_s']:4.1f} s  "
              f"batch-16 {row['throughput'].get('16', float('nan')):5.1f} img/s")
    cores = os.cpu_count()
    print(f"wall time {elapsed:.1f} s on {cores} cores "
          f"({'within' if elapsed < TARGET_S else 'OVER'} the {TARGET_S:.0f} s target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
