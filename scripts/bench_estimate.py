"""Estimate vs measured: the meta-device estimate (components.estimate.model) beside the real thing on this CPU.

Run: python scripts/bench_estimate.py [--runs 10] [--models efficientnet_lite0,gpt2] [--remeasure]
For each model the same architecture is built twice: on the meta device (the estimate: parameters,
roofline latency) and on the CPU with random weights (``components.models.loaders.architecture``, the offline
pack's architectures too: same network, same shapes, denormals flushed as the app does); an estimate-only
model (``arch_config``) is built for real too when named, on a machine with the RAM for it. The measured
p50 times the estimate's own input (an image at the model's size, 128 tokens, 30 s of audio; decoders:
one generated token against a 128-token prompt's KV cache).
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

DEFAULT_MODELS = ("efficientnet_lite0,efficientnet_lite1,efficientnet_lite2,all_minilm_l6_v2,gpt2,"
                  "bert_base_uncased,resnet50,vit_b_16,whisper_tiny")


def p50_ms(call: Callable[[], Any], runs: int, warmup: int = 2) -> float:
    import torch

    with torch.no_grad():
        for _ in range(warmup):
            call()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measured(entry: Any, runs: int) -> tuple[int, float]:
    """(parameters, p50 ms) of the architecture built for real on the CPU with random weights."""
    import torch

    from components.estimate.model import (
        arch_of,
        count_params,
        decode_step,
        is_decoder,
        prompt_pass,
        workload,
    )
    from components.models.loaders.architecture import build_architecture

    model, spec = build_architecture(arch_of(entry))
    params = count_params(model)
    if is_decoder(entry, model):
        with torch.no_grad():
            out = prompt_pass(model, "cpu")()
        return params, p50_ms(decode_step(model, out, "cpu"), runs)
    return params, p50_ms(workload(model, spec, "cpu")[1], runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--remeasure", action="store_true", help="measure this machine again first")
    args = parser.parse_args()

    from components.core.catalog import get_entry
    from components.estimate.hardware import machine
    from components.estimate.model import estimate_entry
    from components.models.torch_setup import configure_torch

    configure_torch()
    hw = machine(refresh=args.remeasure)
    print(f"machine: {hw.cpu}, {hw.bandwidth_gb_s} GB/s, {hw.flops_g_s} GFLOP/s, "
          f"{hw.op_overhead_us} us/operator, {hw.threads} thread(s)")
    print("| model | input | params (meta) | params (built) | estimate (ms) | measured p50 (ms) "
          "| measured / estimate |")
    print("|---|---|---|---|---|---|---|")
    for model_id in args.models.split(","):
        entry = get_entry(model_id)
        est = estimate_entry(entry, hw)
        params, p50 = measured(entry, args.runs)
        estimate_ms = est.get("latency_per_token_ms") or est["latency_ms"]
        what = "1 token after a 128-token prompt" if "latency_per_token_ms" in est else est["input"]
        print(f"| {model_id} | {what} | {est['params']:,} | {params:,} | {estimate_ms:.1f} | {p50:.1f} "
              f"| {p50 / estimate_ms:.2f} |", flush=True)


if __name__ == "__main__":
    main()
