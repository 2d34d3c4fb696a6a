"""Whether cross-session batching pays for a loaded model, by measurement: one call over several copies of an input
must cost each copy clearly less than the input alone. On this project's 2-core CPU box it did not for the default
Vision models (EfficientNet-Lite0 / Lite2 on ONNX Runtime and eager: each image cost 0.92-1.41x of itself alone in a
batch of 4; README "Cross-session batching"), so batching turns itself on only where the hardware and the model
gain from it.

MODEL_EXPLORER_BATCH: "measured" (default), "always" (batch every model of a batchable task) or "off".
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MODE_ENV = "MODEL_EXPLORER_BATCH"
MODES = ("measured", "always", "off")
MAX_PER_ITEM = 0.8  # batching pays when each input of a batch costs at most this share of the input alone
PROBE_SIZE = 4  # inputs in the measured batch
PROBE_RUNS = 3  # timed calls of each kind, alternating (the fastest counts)
_VERDICTS: dict[tuple[str, str, str], bool] = {}
_LOCK = threading.Lock()


def batching_mode() -> str:
    """The operator's MODEL_EXPLORER_BATCH, else "measured"."""
    mode = os.environ.get(MODE_ENV, "").strip().lower() or "measured"
    if mode not in MODES:
        log.warning("%s=%r is not one of %s; measuring", MODE_ENV, mode, ", ".join(MODES))
        return "measured"
    return mode


def batching_pays(model_id: str, runtime: str, task: str) -> bool | None:
    """Whether to batch this model's requests: True / False, or None while not measured."""
    mode = batching_mode()
    if mode != "measured":
        return mode == "always"
    with _LOCK:
        return _VERDICTS.get((model_id, runtime, task))


def measure_batching(runner: Any, task: str, inputs: Any, options: dict[str, Any]) -> bool:
    """Time ``inputs`` alone against :data:`PROBE_SIZE` copies in one call on ``runner`` (the caller holds a queue
    slot), store and return the verdict. A call that fails means no batching."""
    try:
        alone, together = _paired_fastest_s(lambda: runner.run(inputs, **options),
                                            lambda: runner.run([inputs] * PROBE_SIZE, **options))
        together /= PROBE_SIZE
        pays = together <= MAX_PER_ITEM * alone
        log.info("batching %s on %s: %.1f ms alone, %.1f ms each in %d: %s", runner.entry.id, runner.runtime.name,
                 alone * 1000, together * 1000, PROBE_SIZE, "on" if pays else "off")
    except Exception:  # noqa: BLE001 - a model that cannot take a list is simply never batched
        log.exception("measuring batching for %s failed", runner.entry.id)
        pays = False
    with _LOCK:
        _VERDICTS[(runner.entry.id, runner.runtime.name, task)] = pays
    return pays


def _paired_fastest_s(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[float, float]:
    """The fastest of each call's timings, as ``timeit`` advises (other work only ever adds time): one untimed
    call each (first-shape allocations), then :data:`PROBE_RUNS` alternating pairs."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(PROBE_RUNS):
        for call, found in zip((first, second), times):
            started = time.perf_counter()
            call()
            found.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])
