"""Process-wide model cache: each model is loaded once and shared by every session.

A memory budget evicts the least recently used model. Concurrent requests for the same model wait
for one load instead of loading twice; ``load_counts`` records how many times each key was loaded.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from components.models.extras import Extras

BUDGET_ENV = "MODEL_EXPLORER_MEMORY_BUDGET_MB"
STATS_ENV = "MODEL_EXPLORER_STATS_FILE"  # opt-in: after each load / eviction, write the counts there as JSON
DEFAULT_BUDGET_MB = 8192  # a third of a 24 GiB machine: room for the app, the browser and data


class SharedExclusiveLock:
    """Many shared holders at once (runs), or one exclusive holder (an explainer that hooks the model)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._shared = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._exclusive)
            self._shared += 1
        try:
            yield
        finally:
            with self._condition:
                self._shared -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._exclusive and not self._shared)
            self._exclusive = True
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


@dataclass
class LoadedModel:
    """A model ready to run, with what a result card must say about it."""

    model: Any
    size_mb: float
    device: str
    weights: str  # "real" or "random"
    load_s: float = 0.0
    extras: Extras | None = None  # the engine's typed record (transform, tokenizer, …)
    thread_safe: bool = True  # False: calls are serialised through ``lock`` (stateful engines)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    access: SharedExclusiveLock = field(default_factory=SharedExclusiveLock, repr=False)

    @contextmanager
    def in_use(self) -> Iterator[None]:
        """Around a run: shared with other runs (one at a time for stateful engines), never during hooking."""
        with self.access.shared():
            if self.thread_safe:
                yield
            else:
                with self.lock:
                    yield

    @contextmanager
    def hooked(self) -> Iterator[None]:
        """Around an explanation that puts hooks on the shared module: no run of this model meanwhile."""
        with self.access.exclusive():
            yield


def budget_from_env() -> float:
    try:
        return float(os.environ.get(BUDGET_ENV, DEFAULT_BUDGET_MB))
    except ValueError:
        return float(DEFAULT_BUDGET_MB)


class ModelKey(str):
    """A cache key that is still the plain text ``id:weights:engine:runtime[@folder]`` (stats, logs) but
    keeps its parts, so "is this model loaded on that runtime" compares fields, never substrings."""

    entry_id: str
    weights: str
    engine: str
    runtime: str
    folder: str

    def __new__(cls, entry_id: str, weights: str, engine: str, runtime: str, folder: str = "") -> ModelKey:
        key = super().__new__(cls, f"{entry_id}:{weights}:{engine}:{runtime}" + (f"@{folder}" if folder else ""))
        key.entry_id, key.weights, key.engine, key.runtime, key.folder = entry_id, weights, engine, runtime, folder
        return key


class ModelManager:
    """Load-once, share-everywhere LRU cache with a memory budget in MB."""

    def __init__(self, budget_mb: float | None = None) -> None:
        self.budget_mb = budget_from_env() if budget_mb is None else budget_mb
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.load_counts: Counter[str] = Counter()
        self.evictions: list[str] = []
        self._stats_lock = threading.Lock()

    def get(self, key: str, loader: Callable[[], LoadedModel]) -> LoadedModel:
        """Return the cached model for ``key``, loading it with ``loader`` on first use."""
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._models:  # another session loaded it while we waited
                    self._models.move_to_end(key)
                    return self._models[key]
            start = time.perf_counter()
            loaded = loader()
            loaded.load_s = loaded.load_s or time.perf_counter() - start
            with self._lock:
                self.load_counts[key] += 1
                self._models[key] = loaded
                self._evict_over_budget(keep=key)
            self.write_stats()
            return loaded

    def is_loaded(self, entry_id: str, runtime: str, weights: str = "real") -> bool:
        """Whether a model of catalog entry ``entry_id`` with ``weights`` is loaded on ``runtime``."""
        with self._lock:
            return any(isinstance(key, ModelKey) and (key.entry_id, key.runtime, key.weights)
                       == (entry_id, runtime, weights) for key in self._models)

    def used_mb(self) -> float:
        with self._lock:
            return sum(m.size_mb for m in self._models.values())

    def loaded(self) -> list[tuple[str, LoadedModel]]:
        """Snapshot, least recently used first."""
        with self._lock:
            return list(self._models.items())

    def evict(self, key: str) -> None:
        with self._lock:
            if self._models.pop(key, None) is not None:
                self.evictions.append(key)
        gc.collect()
        self.write_stats()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"pid": os.getpid(), "load_counts": dict(self.load_counts), "loaded": list(self._models),
                    "used_mb": sum(m.size_mb for m in self._models.values()), "budget_mb": self.budget_mb,
                    "evictions": list(self.evictions)}

    def write_stats(self) -> None:
        """Write :meth:`stats` as JSON to ``$MODEL_EXPLORER_STATS_FILE`` atomically (nothing when unset).

        Lets a test (or an operator) read the load counts of a running server from outside its process.
        """
        path = os.environ.get(STATS_ENV)
        if not path:
            return
        with self._stats_lock:  # one writer at a time, so the file always holds the latest snapshot
            tmp = f"{path}.{os.getpid()}.tmp"
            try:
                with open(tmp, "w", encoding="utf-8") as handle:
                    json.dump(self.stats(), handle)
                os.replace(tmp, path)
            except OSError as exc:  # a diagnostics file must never break a model load
                logging.getLogger(__name__).warning("cannot write %s=%s: %s", STATS_ENV, path, exc)

    def _evict_over_budget(self, keep: str) -> None:
        while sum(m.size_mb for m in self._models.values()) > self.budget_mb and len(self._models) > 1:
            oldest = next(k for k in self._models if k != keep)
            del self._models[oldest]
            self.evictions.append(oldest)


_manager: ModelManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> ModelManager:
    """The one manager of this process (shared across Streamlit sessions)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = ModelManager()
        return _manager
