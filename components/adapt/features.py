"""Frozen backbone features of a labelled set, computed once per (model, weights and their fingerprint,
runtime, data).

Kept in a bounded in-process LRU and as ``.npy`` files under the app's data folder (the least recently used
files beyond ``DISK_BUDGET_BYTES`` are removed), so every head, every few-shot draw and every rerun of the
page reuses them. Pooled features: timm models'
pre-logits (``forward_head(..., pre_logits=True)``), text encoders' mean-pooled normalised tokens,
speech encoders' mean over the frames of real audio (:mod:`components.adapt.audio`).
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from components.core import CatalogEntry, get_task
from components.datasets import LabelledSet
from components.models import sweep_scratch

FEATURES_ENV = "MODEL_EXPLORER_FEATURES_DIR"
RUNTIME = "eager"  # the only runtime features are taken on for now
FEATURE_VERSION = 1  # bump when pooling changes: old cache files are then ignored
MEMORY_BUDGET_BYTES = 256 * 2**20
DISK_BUDGET_BYTES = 1024 * 2**20

Progress = Callable[[float, str], None]


def features_dir() -> Path:
    """Where feature files live: MODEL_EXPLORER_FEATURES_DIR or ~/.model_explorer/features."""
    return Path(os.environ.get(FEATURES_ENV) or Path.home() / ".model_explorer" / "features")


class FeatureMemory:
    """Thread-safe LRU of feature arrays bounded by their total size in bytes."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._arrays: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            if key in self._arrays:
                self._arrays.move_to_end(key)
            return self._arrays.get(key)

    def put(self, key: str, array: np.ndarray) -> None:
        with self._lock:
            self._arrays[key] = array
            self._arrays.move_to_end(key)
            while sum(a.nbytes for a in self._arrays.values()) > self.budget_bytes and len(self._arrays) > 1:
                self._arrays.popitem(last=False)

    def __len__(self) -> int:
        return len(self._arrays)


MEMORY = FeatureMemory(MEMORY_BUDGET_BYTES)


@dataclass(frozen=True)
class Features:
    array: np.ndarray  # (samples, feature_dim) float32
    seconds: float  # wall time to get them (compute, or read from a cache)
    source: str  # "computed" | "memory" | "disk"


def cache_key(model_id: str, weights: str, fingerprint: str, digest: str) -> str:
    """The cache name of one backbone's features of one set (``fingerprint``: of the weights, see
    :mod:`components.models.fingerprint`)."""
    text = f"{model_id}|{weights}|{fingerprint}|{RUNTIME}|{digest}|v{FEATURE_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def backbone_runner(entry: CatalogEntry, task: str, weights: str, manager: Any = None,
                    extra_dir: str | None = None) -> Any:
    """A runner for ``entry`` whose preprocess suits ``task``'s inputs (CannotRun if none)."""
    from components.models import CannotRun, create_runner, runner_tasks

    runnable = runner_tasks(entry, weights, extra_dir)
    for runner_task in get_task(task).adapt.sources:
        if runner_task in runnable:
            return create_runner(entry, runner_task, weights=weights, manager=manager, extra_dir=extra_dir)
    raise CannotRun(f"{entry.name} cannot extract features for {task} here with {weights} weights")


def extract(entry: CatalogEntry, weights: str, dataset: LabelledSet, progress: Progress | None = None,
            manager: Any = None, extra_dir: str | None = None) -> Features:
    """Features of every sample of ``dataset``; from memory, disk, or computed (then stored). The backbone is
    loaded first (the model manager's copy when it has one): its weights' fingerprint is part of the key."""
    from components.models import weights_fingerprint

    start = time.perf_counter()
    runner = backbone_runner(entry, dataset.task, weights, manager, extra_dir)
    key = cache_key(entry.id, weights, weights_fingerprint(runner.model), dataset.digest)
    path = features_dir() / f"{key}.npy"
    cached = MEMORY.get(key)
    if cached is not None:
        _touch(path)
        return Features(cached, time.perf_counter() - start, "memory")
    array = _load(path, len(dataset))
    if array is not None:
        MEMORY.put(key, array)
        _touch(path)
        return Features(array, time.perf_counter() - start, "disk")
    size = get_task(dataset.task).adapt.batch
    parts = []
    for first in range(0, len(dataset), size):
        if progress:
            progress(first / len(dataset), f"{entry.name} ({weights} weights): {first}/{len(dataset)} samples")
        parts.append(embed_items(runner, dataset.task, list(dataset.inputs[first:first + size])))
    array = np.concatenate(parts).astype(np.float32)
    MEMORY.put(key, array)
    _save(path, array)
    return Features(array, time.perf_counter() - start, "computed")


def _load(path: Path, rows: int) -> np.ndarray | None:
    """The features cached at ``path``; None (a miss, computed anew) when the file is absent, empty, cut short,
    corrupt or of another shape."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):  # EOFError: a zero-length file
        return None
    return array if array.ndim == 2 and array.shape[0] == rows and array.dtype == np.float32 else None


def _save(path: Path, array: np.ndarray) -> None:
    """Write atomically (stale scratch files of earlier writers swept first); a read-only or full disk only
    costs the cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_scratch(path.parent)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as handle:
            np.save(handle, array)
        tmp.replace(path)
        prune(path.parent, DISK_BUDGET_BYTES, keep=path)
    except OSError:
        pass


def _touch(path: Path) -> None:
    """Mark a feature file recently used (pruned last); a missing or read-only file only costs the cache."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune(folder: Path, budget_bytes: int, keep: Path | None = None) -> None:
    """Remove the least recently used ``.npy`` files in ``folder`` (never ``keep``, the one just written) until
    the rest fit in ``budget_bytes``."""
    files = []
    for path in folder.glob("*.npy"):
        if path == keep:
            continue
        try:
            stat = path.stat()
        except OSError:  # removed meanwhile by another process
            continue
        files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files) + (keep.stat().st_size if keep is not None and keep.exists() else 0)
    for _, size, path in sorted(files):
        if total <= budget_bytes:
            break
        path.unlink(missing_ok=True)
        total -= size


def embed_items(runner: Any, task: str, items: Sequence[Any]) -> np.ndarray:
    """Pooled features of a batch of raw inputs through ``runner``'s own preprocessing."""
    import torch

    from components.models import CannotRun, embed

    kind = get_task(task).input_kind
    if kind == "audio":
        from components.adapt.audio import embed_audio

        return embed_audio(runner, items)
    if kind == "text":
        batch = runner.preprocess(list(items))
    else:  # one call per sample: random-weights runners take one image or clip at a time
        prepared = [runner.preprocess(item) for item in items]
        batch = (torch.cat(prepared) if hasattr(prepared[0], "shape")
                 else {k: torch.cat([p[k] for p in prepared]) for k in prepared[0]})
    model = runner.model
    with torch.inference_mode():
        if hasattr(model, "forward_features") and hasattr(model, "forward_head"):
            pooled = model.forward_head(model.forward_features(batch), pre_logits=True)
        elif isinstance(batch, dict) and "attention_mask" in batch:
            pooled = embed(runner.loaded, batch)
        else:
            raise CannotRun(f"{runner.entry.name} gives no pooled features here")
    return pooled.float().cpu().numpy()
