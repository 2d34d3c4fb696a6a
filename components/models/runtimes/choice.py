"""The runtime a playground starts on, by measurement: ONNX Runtime fp32 where its export answers like PyTorch
eager on the bundled set (top-1 agreement 1.00 for classifiers; every output cosine >= 0.999 otherwise), else eager.

A verdict is measured once per model and weights (export, then both runtimes on the bundled set: a few seconds),
on first use, and kept on disk beside the exports, named by the weights fingerprint like them, so a restarted
server only reads it. MODEL_EXPLORER_DEFAULT_RUNTIME names a fixed default instead ("eager": the old behaviour).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from components.core import CatalogEntry, get_task
from components.models.factory import CannotRun, create_runner
from components.models.fingerprint import weights_fingerprint
from components.models.runtimes.agreement import agreement
from components.models.runtimes.base import runtime_names
from components.models.runtimes.onnx import OPSET, cache_dir

log = logging.getLogger(__name__)

DEFAULT_RUNTIME_ENV = "MODEL_EXPLORER_DEFAULT_RUNTIME"  # "measured" (default) or a runtime name
CANDIDATE = "onnx"
MIN_TOP1 = 1.0
MIN_COSINE = 0.999
_VERDICTS: dict[tuple[str, str], dict[str, Any]] = {}
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def agrees(measured: dict[str, Any]) -> bool:
    """Whether an agreement figure is good enough to default to the candidate runtime."""
    if measured["basis"] == "top-1 match":
        return measured["value"] >= MIN_TOP1
    return measured.get("min", measured["value"]) >= MIN_COSINE


def verdict(entry: CatalogEntry, task: str, samples: Callable[[], Sequence[Any]],
            extra_dir: str | None = None) -> dict[str, Any]:
    """{"runtime", "agreement"?, "reason"?} for ``entry`` on ``task``: measured once per weights (memory, then
    disk), ``samples()`` called only when it must be measured."""
    eager = create_runner(entry, task, "real", runtime="eager", extra_dir=extra_dir)
    key = (entry.id, f"{eager.loaded.weights}-{weights_fingerprint(eager.loaded.model) or 'pinned'}")
    with _GUARD:
        lock = _LOCKS.setdefault(entry.id, threading.Lock())
    with lock:  # one measurement per model, however many sessions ask at once
        if key not in _VERDICTS:
            _VERDICTS[key] = _read_or_measure(entry, task, eager, _path(*key), samples, extra_dir)
        return _VERDICTS[key]


def default_runtime(entries: Sequence[CatalogEntry], task: str, samples: Callable[[], Sequence[Any]],
                    extra_dir: str | None = None) -> str:
    """The runtime a playground starts on for ``entries``: the candidate when every one agrees, else eager."""
    fixed = os.environ.get(DEFAULT_RUNTIME_ENV, "measured")
    if fixed in runtime_names():
        return fixed
    if fixed != "measured":
        log.warning("%s=%r names no runtime (%s); measuring instead", DEFAULT_RUNTIME_ENV, fixed,
                    ", ".join(runtime_names()))
    try:
        found = [verdict(entry, task, samples, extra_dir)["runtime"] for entry in entries]
    except CannotRun:
        return "eager"
    except Exception:  # noqa: BLE001 - a failed measurement leaves the page on eager, never broken
        log.exception("measuring the default runtime of %s failed", ", ".join(e.id for e in entries))
        return "eager"
    return CANDIDATE if found and all(r == CANDIDATE for r in found) else "eager"


def _path(model_id: str, weights: str) -> Path:
    return cache_dir() / f"agreement-{model_id}-{weights}-opset{OPSET}-{CANDIDATE}.json"


def _read_or_measure(entry: CatalogEntry, task: str, eager: Any, path: Path,
                     samples: Callable[[], Sequence[Any]], extra_dir: str | None) -> dict[str, Any]:
    try:
        kept = json.loads(path.read_text())
        if isinstance(kept, dict) and kept.get("runtime") in (CANDIDATE, "eager"):
            return kept
    except (OSError, ValueError):
        pass
    try:
        candidate = create_runner(entry, task, "real", runtime=CANDIDATE, extra_dir=extra_dir)
        measured = agreement(eager, candidate, list(samples()), get_task(task).bench_options)  # zero-shot labels
    except CannotRun as exc:  # no export for this model: eager it is (not written: another build may export it)
        return {"runtime": "eager", "reason": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a failed export or run: eager, remembered for this process
        log.warning("measuring %s on %s failed: %s", entry.id, CANDIDATE, exc)
        return {"runtime": "eager", "reason": f"{type(exc).__name__}: {exc}"}
    found = {"runtime": CANDIDATE if agrees(measured) else "eager", "agreement": measured}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(found))
        scratch.replace(path)
    except OSError:
        log.warning("could not keep the runtime verdict in %s", path)
    return found
