"""The engine's own overhead: its p50 against a bare loop calling the same library on the same input.

Run from the repository root:  python scripts/bench_overhead.py [--runs 200] [--block 5]

- EfficientNet-Lite0, batch 1, 224 px, scikit-image's chelsea photo: the engine (create_runner +
  timed_runs, as the Compare page measures) against ``model(transform(img))`` + softmax/top-5 with
  timm's own transform for the same model.
- all-MiniLM-L6-v2, one sentence: the engine against a bare tokenizer call + AutoModel forward + mean
  pooling.
Both sides call the same loaded model objects (so memory placement cannot differ) with the same
torch settings (1 thread, flush denormals). Short blocks, each
after one warm-up call, are interleaved (engine, bare, bare, engine, ...) so drift on a shared
machine hits both sides alike.

The playground result cards time the very same ``Runner.run`` call (sum of its preprocess / forward /
postprocess stages), so the "engine" column is also the card's latency (issue 3's comparison).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MODEL_EXPLORER_OFFLINE", "1")

from components.compare.benchmark import PEAK_INTERVAL_S, timed_runs  # noqa: E402
from components.core.catalog import get_entry  # noqa: E402
from components.models.factory import create_runner  # noqa: E402
from components.models.measure import PeakMemory, steady_allocator  # noqa: E402

SENTENCE = "The quick brown fox jumps over the lazy dog."


def bare_block(fn: Callable[[], Any], runs: int) -> list[float]:
    """One warm-up call, then ``runs`` timed calls of the bare library code."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def engine_block(runner: Any, sample: Any, runs: int) -> list[float]:
    """The same through the engine, as benchmark_model measures (memory sampled alongside)."""
    with PeakMemory(interval_s=PEAK_INTERVAL_S):
        return timed_runs(runner, sample, runs=runs, warmup=1)[0]


def efficientnet_pair() -> tuple[Any, Any, Callable[[], Any]]:
    """(engine runner, its input, the bare call) for EfficientNet-Lite0 on chelsea."""
    import torch
    from PIL import Image
    from skimage import data
    from timm.data import create_transform, resolve_data_config

    runner = create_runner(get_entry("efficientnet_lite0"), "image-classification", "real")
    image = Image.fromarray(data.chelsea())
    model = runner.model  # the same weights; the bare side only skips the engine
    transform = create_transform(**resolve_data_config({}, model=model))

    def bare() -> Any:
        with torch.inference_mode():
            logits = model(transform(image.convert("RGB")).unsqueeze(0))
        return logits.softmax(-1).topk(5)

    return runner, image, bare


def minilm_pair() -> tuple[Any, Any, Callable[[], Any]]:
    """(engine runner, its input, the bare call) for all-MiniLM-L6-v2 on one sentence."""
    import torch

    runner = create_runner(get_entry("all_minilm_l6_v2"), "sentence-similarity", "real")
    model, tokenizer = runner.model, runner.loaded.extras.tokenizer  # the same weights and vocabulary

    def bare() -> Any:
        encoded = tokenizer([SENTENCE], padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)

    return runner, SENTENCE, bare


def compare(name: str, runner: Any, sample: Any, bare: Callable[[], Any], runs: int, block: int) -> float:
    """Alternate short blocks (engine first, then bare first, ...) and compare the p50s."""
    engine_ms: list[float] = []
    bare_ms: list[float] = []
    for i in range(max(1, runs // block)):
        if i % 2 == 0:
            engine_ms += engine_block(runner, sample, block)
            bare_ms += bare_block(bare, block)
        else:
            bare_ms += bare_block(bare, block)
            engine_ms += engine_block(runner, sample, block)
    engine_p50, bare_p50 = statistics.median(engine_ms), statistics.median(bare_ms)
    diff = (engine_p50 - bare_p50) / bare_p50 * 100
    print(f"{name:<37} engine p50 {engine_p50:7.2f} ms   bare p50 {bare_p50:7.2f} ms   "
          f"difference {diff:+5.1f}%   ({len(engine_ms)} runs each, blocks of {block})")
    return diff


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per side (default 200)")
    parser.add_argument("--block", type=int, default=5, help="runs per interleaved block (default 5)")
    args = parser.parse_args()

    import torch

    runner, image, bare = efficientnet_pair()
    steady_allocator()  # as benchmark_model does; the bare loop shares this process, so the state too
    torch.set_num_threads(1)  # what configure_torch() chose for the engine; both sides share it
    torch.set_flush_denormal(True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"flush denormals on, device {runner.device}")
    diffs = [compare("EfficientNet-Lite0 (224 px, batch 1)", runner, image, bare, args.runs, args.block)]
    runner, sentence, bare = minilm_pair()
    diffs.append(compare("all-MiniLM-L6-v2 (one sentence)", runner, sentence, bare, args.runs, args.block))
    worst = max(diffs)
    print(f"largest engine overhead: {worst:+.1f}% ({'within' if worst <= 10 else 'OVER'} the 10% target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
