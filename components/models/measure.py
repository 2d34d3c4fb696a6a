"""Measurement primitives: stage timing, peak resident memory, params, FLOPs, environment."""
from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import psutil


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


class PeakMemory:
    """Samples this process's resident memory in a background thread; ``peak_mb`` after exit."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakMemory:
        self.peak_mb = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's own dynamic ceiling for the mmap threshold (64-bit)


def steady_allocator() -> bool:
    """Pin glibc malloc's mmap / trim thresholds where glibc puts them after the first large free.

    Otherwise the allocator's state depends on history: on the 2-core CPU, EfficientNet-Lite0 took
    27 ms per image before any batch-16 run in the process and 19 ms after one, so whichever model
    was measured first looked slower. Pinned, every model is timed under the same state.
    Returns True when applied (Linux with glibc), False elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                    and libc.mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False


def cuda_sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


@contextmanager
def stage_timer(stages: dict[str, float], name: str, device: str = "cpu") -> Iterator[None]:
    """Add the wall time of the block, in ms, to ``stages[name]`` (CUDA synchronised on both sides)."""
    cuda_sync(device)
    start = time.perf_counter()
    try:
        yield
    finally:
        cuda_sync(device)
        stages[name] = stages.get(name, 0.0) + (time.perf_counter() - start) * 1000


def count_params(model: Any) -> int | None:
    """Parameter count of a torch module (None for non-torch engines)."""
    parameters = getattr(model, "parameters", None)
    if parameters is None:
        return None
    try:
        return int(sum(p.numel() for p in parameters()))
    except TypeError:
        return None


def module_size_mb(model: Any) -> float:
    """Bytes of parameters and buffers of a torch module, in MB."""
    total = 0
    for getter in ("parameters", "buffers"):
        for tensor in getattr(model, getter, lambda: [])():
            total += tensor.numel() * tensor.element_size()
    return total / 2**20


def count_flops(fn: Any, *args: Any, **kwargs: Any) -> int | None:
    """FLOPs of one call, counted by torch's FlopCounterMode (None if it cannot trace the call)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    try:
        counter = FlopCounterMode(display=False)
        with torch.inference_mode(), counter:
            fn(*args, **kwargs)
        return int(counter.get_total_flops())
    except Exception:  # noqa: BLE001 - some engines (JIT, custom ops) cannot be traced; report n/a
        return None


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50 / p90 / p99 / mean / std / min / max of latency samples."""
    import numpy as np

    arr = np.asarray(samples_ms, dtype=float)
    if arr.size == 0:
        return {}
    return {
        "p50": float(np.percentile(arr, 50)), "p90": float(np.percentile(arr, 90)),
        "p99": float(np.percentile(arr, 99)), "mean": float(arr.mean()), "std": float(arr.std()),
        "min": float(arr.min()), "max": float(arr.max()), "n": int(arr.size),
    }


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# Instruction sets that decide int8 and fp32 speed (/proc/cpuinfo flag -> name shown).
SIMD_FLAGS = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_vnni": "AVX-512 VNNI", "avx_vnni": "AVX-VNNI",
              "amx_tile": "AMX", "amx_int8": "AMX-INT8"}


def cpu_flag_set() -> frozenset[str]:
    """Every flag /proc/cpuinfo lists for this CPU (empty where it is absent: macOS, Windows, non-x86)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return frozenset(next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")),
                                  []))
    except OSError:
        return frozenset()


def cpu_flags() -> list[str]:
    """The SIMD extensions of this CPU that matter for inference (empty where /proc/cpuinfo is absent)."""
    flags = cpu_flag_set()
    return [name for flag, name in SIMD_FLAGS.items() if flag in flags]


def environment(device: str = "cpu") -> dict[str, Any]:
    """What a result was measured on: stored with every result."""
    import torch

    env = {
        "cpu": cpu_model(), "cpu_flags": " ".join(cpu_flags()) or "n/a", "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device, "python": platform.python_version(), "platform": platform.platform(),
        "torch": torch.__version__, "transformers": _version("transformers"), "timm": _version("timm"),
        "torchvision": _version("torchvision"), "onnxruntime": _version("onnxruntime"),
        "ctranslate2": _version("ctranslate2"),
    }
    if device.startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name(0)
    return env
