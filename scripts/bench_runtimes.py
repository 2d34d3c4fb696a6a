"""The runtime ladder: each model on PyTorch eager, ONNX Runtime fp32 and ONNX Runtime int8, in one process.

    python scripts/bench_runtimes.py [--runs 30] [--json OUT.json]

Per (model, runtime): p50 latency of one input (one thread), speed-up over eager, size on disk,
agreement with eager (top-1 match share for classifiers, output cosine otherwise) and the task metric on
the bundled set where the weights are real. Exports are cached (MODEL_EXPLORER_ONNX_DIR); the first run
of a model pays its export. Run it with nothing else on the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MODEL_EXPLORER_OFFLINE", "1")

from components.compare.benchmark import BenchmarkConfig, compare  # noqa: E402
from components.core.catalog import get_entry  # noqa: E402
from components.datasets import load_bundled  # noqa: E402

LADDER = [  # (task, model id, weights)
    ("image-classification", "efficientnet_lite0", "real"),
    ("image-classification", "efficientnet_lite1", "real"),
    ("image-classification", "efficientnet_lite2", "real"),
    ("image-classification", "resnet50", "random"),
    ("sentence-similarity", "all_minilm_l6_v2", "real"),
    ("fill-mask", "bert_base_uncased", "random"),
]
RUNTIMES = ("eager", "onnx", "onnx-int8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    print(f"{'model':<22}{'weights':<8}{'runtime':<11}{'p50 ms':>9}{'speed-up':>10}{'MB':>8}  agreement / metric")
    for task, model_id, weights in LADDER:
        config = BenchmarkConfig(runs=args.runs, warmup=5, batch_sizes=(1,), weights=weights)
        outcome = compare([get_entry(model_id)], load_bundled(task), config, runtimes=RUNTIMES)
        eager = next((r for r in outcome.results if r.runtime == "eager"), None)
        for result in outcome.results:
            p50 = result.latency_ms["p50"]
            speedup = eager.latency_ms["p50"] / p50 if eager else float("nan")
            agreed = result.agreement or {}
            note = f"{agreed['basis']} {agreed['value']:.3f}" if agreed else "reference"
            metric = ", ".join(f"{k} {v:.3f}" for k, v in result.metrics.items() if v is not None)
            print(f"{model_id:<22}{weights:<8}{result.runtime:<11}{p50:9.2f}{speedup:9.2f}x{result.size_mb:8.1f}"
                  f"  {note}{'; ' + metric if metric else ''}")
            rows.append(result.to_dict())
        for key, reason in outcome.failures.items():
            print(f"{key}: FAILED {reason}")
    env = rows[0]["env"] if rows else {}
    print(f"\nCPU {env.get('cpu')} ({env.get('cpu_flags')}), torch threads {env.get('torch_threads')}, "
          f"onnxruntime {env.get('onnxruntime')}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
