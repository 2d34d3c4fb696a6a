"""This machine's memory bandwidth and FLOP/s, measured once and cached, for the roofline estimates.

Bandwidth: the best of several copies of a 256 MiB numpy array (bytes read + written / time).
FLOP/s: the best of several fp32 matrix products (torch.mm, 1024 x 1024) on the torch threads the app
runs models with (``components.core.settings.torch_threads``), and the same for a dense 3x3 convolution and a
depthwise one (CNN layers run far below the matrix product's rate). Overhead per operator: the best mean
time per aten operator of a tiny eager ``nn.Sequential`` (Linear + GELU, 8 wide): what every operator of
a small model pays before any arithmetic. The cache file is ``MODEL_EXPLORER_MACHINE_FILE``
or ``~/.model_explorer/machine.json``; it is measured again when the CPU or the thread count changes.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from components.core import torch_threads
from components.models import cpu_model

MACHINE_ENV = "MODEL_EXPLORER_MACHINE_FILE"
COPY_BYTES = 256 * 2**20
GEMM_N = 1024
REPEATS = 15
TINY_LAYERS = 50


@dataclass(frozen=True)
class Machine:
    cpu: str
    threads: int
    bandwidth_gb_s: float
    flops_g_s: float
    conv_g_s: float
    depthwise_g_s: float
    op_overhead_us: float
    ram_total_gb: float
    method: str
    measured_at: str


def machine_file() -> Path:
    return Path(os.environ.get(MACHINE_ENV) or Path.home() / ".model_explorer" / "machine.json")


def measure_bandwidth() -> float:
    """GB/s of a large numpy copy, counting the bytes read and the bytes written."""
    import numpy as np

    src = np.ones(COPY_BYTES // 8)
    dst = np.empty_like(src)
    best = min(_timed(lambda: np.copyto(dst, src)) for _ in range(REPEATS))
    return 2 * COPY_BYTES / best / 1e9


def measure_rates(threads: int) -> dict[str, float]:
    """GFLOP/s on ``threads`` torch threads: fp32 matrix product, dense and depthwise 3x3 convolution."""
    import torch
    import torch.nn.functional as F

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.randn(GEMM_N, GEMM_N), torch.randn(GEMM_N, GEMM_N)
    image, dense = torch.randn(1, 64, 56, 56), torch.randn(64, 64, 3, 3)
    wide, depthwise = torch.randn(1, 96, 112, 112), torch.randn(96, 1, 3, 3)
    work = {"flops_g_s": (lambda: torch.mm(a, b), 2 * GEMM_N**3),
            "conv_g_s": (lambda: F.conv2d(image, dense, padding=1), 2 * 56 * 56 * 64 * 64 * 9),
            "depthwise_g_s": (lambda: F.conv2d(wide, depthwise, padding=1, groups=96), 2 * 112 * 112 * 96 * 9)}
    try:
        with torch.no_grad():
            return {name: flops / _best(call) / 1e9 for name, (call, flops) in work.items()}
    finally:
        torch.set_num_threads(before)


def measure_op_overhead() -> float:
    """Microseconds per aten operator of a tiny eager module (dispatch and Python, almost no arithmetic)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    layers = [m for _ in range(TINY_LAYERS) for m in (torch.nn.Linear(8, 8), torch.nn.GELU())]
    model, x = torch.nn.Sequential(*layers).eval(), torch.zeros(1, 8)
    operators = []

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            operators.append(func)
            return func(*args, **(kwargs or {}))

    with torch.no_grad():
        with Count():
            model(x)
        return _best(lambda: model(x)) / len(operators) * 1e6


def _best(call) -> float:
    call()
    return min(_timed(call) for _ in range(REPEATS))


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def measure_machine() -> Machine:
    import psutil

    threads = torch_threads()
    rates = {name: round(value, 2) for name, value in measure_rates(threads).items()}
    return Machine(
        cpu=cpu_model(), threads=threads, bandwidth_gb_s=round(measure_bandwidth(), 2),
        **rates, op_overhead_us=round(measure_op_overhead(), 2),
        ram_total_gb=round(psutil.virtual_memory().total / 1e9, 2),
        method=(f"bandwidth: best of {REPEATS} numpy copies of {COPY_BYTES >> 20} MiB (read + write); "
                f"FLOP/s: best of {REPEATS} fp32 torch.mm {GEMM_N}x{GEMM_N}, conv2d 3x3 64->64 "
                f"at 56x56, depthwise conv2d 3x3 96 ch at 112x112, on {threads} thread(s); operator overhead: "
                f"best time of a {TINY_LAYERS}x(Linear 8 + GELU) eager module per aten operator"),
        measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def machine(refresh: bool = False) -> Machine:
    """The cached measurement of this machine, measured (and written) when absent, stale or asked."""
    path = machine_file()
    if not refresh:
        cached = _read(path)
        if cached is not None and cached.cpu == cpu_model() and cached.threads == torch_threads():
            return cached
    found = measure_machine()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(found), indent=2), encoding="utf-8")
    return found


def _read(path: Path) -> Machine | None:
    try:
        return Machine(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
