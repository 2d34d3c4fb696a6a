"""Estimates for models too large for, or absent from, this machine: built on PyTorch's meta device.

A catalog entry's ``architecture`` (or, for models too big to build for real, its ``arch_config``: the
public configuration values) is built with ``torch.device("meta")``: no memory, no download. From it:
the exact parameter count, the weights' size per dtype, the peak activation memory and the FLOPs of a
stated input (every operator seen by a dispatch mode), whether this machine's RAM holds it, and a
latency from a roofline over each operator: max(FLOPs / FLOP/s of its kind (matrix product, dense or
depthwise convolution), bytes / bandwidth) plus an operator's eager overhead, with this machine's measured
figures (``components.estimate.hardware``). Bytes are those read and written; a lookup (embedding, index_select,
gather) reads only the rows it picks. Decoders get the prefill of a prompt and the cost per generated token
(one step against the prompt's KV cache).
Every figure here is an estimate and labelled so.

CLI: ``python -m components.estimate --models llama2_7b,mistral_7b [--json OUT]``.
"""
from __future__ import annotations

import argparse
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from components.core import TASKS, Architecture, CatalogEntry, CliError, description, entries_by_ids, fail, write_json
from components.estimate.hardware import Machine, machine

LABEL = "estimate"
DTYPE_BYTES = {"fp32": 4.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
PROMPT_TOKENS = 128
TEXT_TOKENS = 128
AUDIO_SECONDS = 30
SAMPLE_RATE = 16000
GATHERS = frozenset({"embedding", "index_select", "gather", "index", "take"})  # aten ops that pick rows of a tensor


@dataclass(frozen=True)
class Cost:
    """What one pass of a workload costs, counted operator by operator on the meta device."""

    flops: float
    bytes_moved: float
    peak_activation_bytes: float
    operators: int
    roofline_s: float  # sum over operators of max(FLOPs / FLOP/s of its kind, bytes / bandwidth) + overhead


class _Counter:
    """Dispatch mode body: FLOPs (torch's flop formulas), bytes touched, live tensor bytes, roofline time."""

    def __init__(self, hw: Machine) -> None:
        from torch.utils.flop_counter import flop_registry

        self.registry = flop_registry
        self.hw = hw
        self.flops = self.bytes = self.live = self.peak = self.seconds = 0.0
        self.operators = 0
        self.storages: dict[int, list[float]] = {}  # storage made by an operator -> [live tensors, bytes]
        self.foreign: set[int] = set()  # storages that existed before (weights, inputs, a prompt's cache)

    def count(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        import torch
        from torch.utils._pytree import tree_flatten

        inputs = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        outputs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        self.foreign.update(k for k in map(_storage_key, inputs) if k not in self.storages)
        self._track(outputs)
        if getattr(func, "is_view", False):
            return
        flops = 0.0
        if func.overloadpacket in self.registry:
            flops = float(self.registry[func.overloadpacket](*args, **kwargs, out_val=out))
        moved = _bytes_moved(func, inputs, outputs)
        self.flops += flops
        self.bytes += moved
        self.operators += 1
        rate = _rate_g_s(func, args, self.hw) * 1e9
        self.seconds += max(flops / rate, moved / (self.hw.bandwidth_gb_s * 1e9))
        self.seconds += self.hw.op_overhead_us * 1e-6

    def _track(self, outputs: list) -> None:
        """Count a storage's bytes while any tensor on it lives (views and in-place results share it)."""
        for tensor in outputs:
            key = _storage_key(tensor)
            if key in self.foreign:
                continue
            if key not in self.storages:
                size = float(tensor.untyped_storage().nbytes())
                self.storages[key] = [0, size]
                self.live += size
                self.peak = max(self.peak, self.live)
            self.storages[key][0] += 1
            weakref.finalize(tensor, self._release, key)

    def _release(self, key: int) -> None:
        record = self.storages[key]
        record[0] -= 1
        if record[0] == 0:
            self.live -= record[1]
            del self.storages[key]


def _rate_g_s(func: Any, args: tuple, hw: Machine) -> float:
    """The measured GFLOP/s of this operator's kind: depthwise or dense convolution, else matrix product."""
    if func.overloadpacket.__name__ not in ("convolution", "_convolution", "cudnn_convolution"):
        return hw.flops_g_s
    groups = args[8] if len(args) > 8 else 1
    return hw.depthwise_g_s if groups > 1 and groups == args[0].shape[1] else hw.conv_g_s


def _bytes_moved(func: Any, inputs: list, outputs: list) -> float:
    """Bytes an operator reads and writes; a gather (embedding lookup, index_select, gather, indexing) reads only
    the rows it picks (as many bytes as its output), not its whole source tensor (the first argument)."""
    if func.overloadpacket.__name__ in GATHERS and inputs:
        return float(sum(_nbytes(t) for t in inputs[1:]) + 2 * sum(_nbytes(t) for t in outputs))
    return float(sum(_nbytes(t) for t in inputs + outputs))


def _storage_key(tensor: Any) -> int:
    return tensor.untyped_storage()._cdata


def _nbytes(tensor: Any) -> int:
    return tensor.numel() * tensor.element_size()


def measure_cost(run: Callable[[], Any], hw: Machine) -> tuple[Cost, Any]:
    """(cost of ``run()`` on meta tensors, its output) under a counting dispatch mode, without gradients."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    counter = _Counter(hw)

    class Mode(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            counter.count(func, args, kwargs or {}, out)
            return out

    with torch.no_grad(), Mode():
        out = run()
    cost = Cost(counter.flops, counter.bytes, counter.peak, counter.operators, counter.seconds)
    return cost, out


def arch_of(entry: CatalogEntry) -> Architecture | None:
    """The architecture the estimate builds: the runnable one, else the public configuration."""
    return entry.architecture or entry.arch_config


def build_meta(arch: Architecture) -> tuple[Any, dict[str, Any]]:
    """(module on the meta device, input spec): no weights are allocated."""
    import torch

    from components.models import build_architecture

    with torch.device("meta"):
        return build_architecture(arch)


def count_params(model: Any) -> int:
    """Unique parameters (tied embeddings count once), as the catalog's ``params`` counts them."""
    return sum(p.numel() for p in model.parameters())


def is_decoder(entry: CatalogEntry, model: Any) -> bool:
    return any(TASKS[t].generates for t in entry.tasks if t in TASKS) and hasattr(model, "generate")


def workload(model: Any, spec: dict[str, Any], device: str = "meta") -> tuple[str, Callable[[], Any]]:
    """(what the input is, a call running one forward pass on it) for a built model and its input spec."""
    import torch

    kind = spec["kind"]
    ids = torch.zeros(1, TEXT_TOKENS, dtype=torch.long, device=device)
    if "pixels" in spec:  # image + text models
        size = spec["pixels"]
        pixels = torch.zeros(1, 3, size, size, device=device)
        return (f"1 image {size}x{size} + {TEXT_TOKENS} tokens",
                lambda: model(input_ids=ids, pixel_values=pixels))
    if kind in ("pixels", "pixel_values"):
        size = spec["size"]
        pixels = torch.zeros(1, 3, size, size, device=device)
        if kind == "pixels":
            return f"1 image {size}x{size}", lambda: model(pixels)
        return f"1 image {size}x{size}", lambda: model(pixel_values=pixels)
    if kind == "input_features":
        frames = AUDIO_SECONDS * 100
        features = torch.zeros(1, spec["mel_bins"], frames, device=device)
        start = torch.zeros(1, 1, dtype=torch.long, device=device)
        return (f"{AUDIO_SECONDS} s audio: encoder + 1 decoder token",
                lambda: model(input_features=features, decoder_input_ids=start))
    if kind == "input_values":
        audio = torch.zeros(1, AUDIO_SECONDS * SAMPLE_RATE, device=device)
        return f"{AUDIO_SECONDS} s audio at {SAMPLE_RATE} Hz", lambda: model(input_values=audio)
    if "decoder_start" in spec:
        return (f"{TEXT_TOKENS} tokens in, 1 decoder token",
                lambda: model(input_ids=ids, decoder_input_ids=ids[:, :1]))
    return f"{TEXT_TOKENS} tokens", lambda: model(input_ids=ids)


def decode_step(model: Any, prompt_out: Any, device: str = "meta") -> Callable[[], Any]:
    """One generated token against the prompt's KV cache (the decoder's cost per token)."""
    import torch

    token = torch.zeros(1, 1, dtype=torch.long, device=device)
    past = prompt_out.past_key_values
    return lambda: model(input_ids=token, past_key_values=past, use_cache=True)


def prompt_pass(model: Any, device: str = "meta") -> Callable[[], Any]:
    import torch

    ids = torch.zeros(1, PROMPT_TOKENS, dtype=torch.long, device=device)
    return lambda: model(input_ids=ids, use_cache=True)


def ram_check(weights_bytes: dict[str, float], activation_bytes: float) -> dict[str, Any]:
    """Per dtype: GB needed (weights + peak activations) and whether this machine's RAM holds it."""
    import psutil

    memory = psutil.virtual_memory()
    checks = {}
    for dtype, size in weights_bytes.items():
        need = size + activation_bytes
        checks[dtype] = {"need_gb": round(need / 1e9, 3), "fits_total": need < memory.total,
                         "fits_available_now": need < memory.available}
    return {"ram_total_gb": round(memory.total / 1e9, 2), "ram_available_gb": round(memory.available / 1e9, 2),
            "per_dtype": checks}


def estimate_entry(entry: CatalogEntry, hw: Machine | None = None) -> dict[str, Any]:
    """Every estimated figure of one catalog entry (see the module docstring); ValueError if not describable."""
    arch = arch_of(entry)
    if arch is None:
        raise ValueError(f"{entry.id}: no architecture or public configuration in the catalog to estimate from")
    hw = hw or machine()
    try:
        return _estimate(entry, arch, hw)
    except (RuntimeError, TypeError, ValueError, AttributeError, NotImplementedError) as exc:
        raise ValueError(f"{entry.id}: cannot estimate from {_built_from(arch)}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _estimate(entry: CatalogEntry, arch: Architecture, hw: Machine) -> dict[str, Any]:
    model, spec = build_meta(arch)
    params = count_params(model)
    weights = {dtype: params * size for dtype, size in DTYPE_BYTES.items()}
    result: dict[str, Any] = {
        "id": entry.id, "name": entry.name, "label": LABEL, "params": params,
        "params_catalog": entry.params, "built_from": _built_from(arch),
        "weights_gb": {dtype: round(size / 1e9, 3) for dtype, size in weights.items()},
        "machine": asdict(hw),
    }
    try:
        if is_decoder(entry, model):
            result.update(_decoder_figures(model, hw, weights["fp32"]))
        else:
            result.update(_single_pass_figures(model, spec, hw))
    except (RuntimeError, TypeError, ValueError, AttributeError, NotImplementedError) as exc:
        result.update({"latency_ms": None, "activation_peak_gb": 0.0,
                       "not_estimated": f"its forward pass does not run on the meta device ({_first_line(exc)}): "
                                        f"no FLOPs, activations or latency; weights only"})
    result["ram"] = ram_check(weights, result["activation_peak_gb"] * 1e9)
    return result


def _built_from(arch: Architecture) -> str:
    what = f"{arch.model_class}({arch.name})" if arch.library == "transformers" else arch.name
    return f"{arch.library} {what} on the meta device" + (" with catalog overrides" if arch.overrides else "")


def _single_pass_figures(model: Any, spec: dict[str, Any], hw: Machine) -> dict[str, Any]:
    what, run = workload(model, spec)
    cost, _ = measure_cost(run, hw)
    return {"input": what, "gflops": round(cost.flops / 1e9, 3),
            "activation_peak_gb": round(cost.peak_activation_bytes / 1e9, 4),
            "operators": cost.operators, "latency_ms": round(cost.roofline_s * 1e3, 3),
            "latency_what": f"one forward pass, fp32, {hw.threads} thread(s)"}


def _decoder_figures(model: Any, hw: Machine, fp32_bytes: float) -> dict[str, Any]:
    prompt, out = measure_cost(prompt_pass(model), hw)
    step, _ = measure_cost(decode_step(model, out), hw)
    cache = sum(_nbytes(t) for t in _cache_tensors(out.past_key_values))
    return {
        "input": f"{PROMPT_TOKENS}-token prompt, then 1 token at a time",
        "gflops": round(prompt.flops / 1e9, 3), "gflops_per_token": round(step.flops / 1e9, 3),
        "activation_peak_gb": round(prompt.peak_activation_bytes / 1e9, 4),
        "kv_cache_gb": round(cache / 1e9, 4), "operators": step.operators,
        "latency_ms": round(prompt.roofline_s * 1e3, 3), "latency_what": f"prefill {PROMPT_TOKENS} tokens, fp32",
        "latency_per_token_ms": round(step.roofline_s * 1e3, 3),
        "latency_per_token_simple_ms": {
            dtype: round(max(fp32_bytes / 4 * size / (hw.bandwidth_gb_s * 1e9),
                             step.flops / (hw.flops_g_s * 1e9)) * 1e3, 3)
            for dtype, size in DTYPE_BYTES.items()},
    }


def _cache_tensors(past: Any) -> list:
    import torch
    from torch.utils._pytree import tree_flatten

    layers = getattr(past, "layers", None)
    if layers is not None:
        return [t for layer in layers for t in (getattr(layer, "keys", None), getattr(layer, "values", None))
                if isinstance(t, torch.Tensor)]
    return [t for t in tree_flatten(past)[0] if isinstance(t, torch.Tensor)]


def summary_line(result: dict[str, Any]) -> str:
    fits = result["ram"]["per_dtype"]
    runs = next((d for d in DTYPE_BYTES if fits[d]["fits_total"]), None)
    head = f"{result['id']}: {result['params']:,} params, {result['weights_gb']['bf16']:.2f} GB bf16"
    ram = f"fits in RAM from {runs}" if runs else "does not fit in RAM at any dtype"
    if result["latency_ms"] is None:
        return f"{head}, {ram} ({LABEL}); {result['not_estimated']}"
    per_token = result.get("latency_per_token_ms")
    cost = (f"{result['gflops_per_token']:.2f} GFLOP/token, ~{per_token:.1f} ms/token fp32" if per_token is not None
            else f"{result['gflops']:.2f} GFLOP, ~{result['latency_ms']:.1f} ms fp32")
    return f"{head}, {cost} ({LABEL}, {result['input']}), {ram}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.estimate", description=description(__doc__))
    parser.add_argument("--models", required=True, help="comma-separated catalog ids")
    parser.add_argument("--json", type=Path, default=None, help="where to write the estimates (JSON)")
    parser.add_argument("--remeasure", action="store_true", help="measure this machine again (bandwidth, FLOP/s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        entries = entries_by_ids(args.models, "--models")
        hw = machine(refresh=args.remeasure)
        results = [estimate_entry(entry, hw) for entry in entries]
        if args.json is not None:
            write_json(args.json, {"label": LABEL, "machine": asdict(hw), "models": results})
    except (CliError, OSError, ValueError, KeyboardInterrupt) as exc:
        return fail(exc)
    print(f"machine: {hw.bandwidth_gb_s} GB/s, {hw.flops_g_s} GFLOP/s, {hw.threads} thread(s) ({hw.method})")
    for result in results:
        print(summary_line(result))
    return 0

