"""A short fingerprint of a loaded torch model's weights, so that files derived from them (ONNX exports, Adapt's
cached features) are never reused for other weights under the same model id: another checkpoint in a local
folder, a newer Hub revision, a fine-tuned copy.

Reading every byte of a 300 MB model would cost ~0.5 s per call; instead every parameter and buffer contributes
its name, shape, dtype and 64 values spread evenly over it. Another checkpoint, or a fine-tune, differs in
nearly every value of the tensors it changed, so it changes the fingerprint; two models that differ only
between the sampled values would not (an accepted limit).
"""
from __future__ import annotations

import hashlib
import itertools
import threading
import time
import weakref
from pathlib import Path
from typing import Any

SAMPLES = 64  # values read per tensor
STALE_SCRATCH_S = 3600  # a .tmp file this old in a cache folder was left by a process that died mid-write
_MEMO: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def weights_fingerprint(model: Any) -> str:
    """12 hex digits for a torch module's weights, or a transformers pipeline's (its ``model``), memoised per
    module; "" for anything else (a CTranslate2 or ONNX model: its files come pinned with its package)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        model = getattr(model, "model", None)
        if not isinstance(model, torch.nn.Module):
            return ""
    with _LOCK:
        known = _MEMO.get(model)
    if known is not None:
        return known
    digest = hashlib.blake2b(digest_size=6)
    with torch.no_grad():
        for name, tensor in itertools.chain(model.named_parameters(), model.named_buffers()):
            flat = tensor.detach().reshape(-1)
            sample = flat[::max(1, flat.numel() // SAMPLES)][:SAMPLES]
            digest.update(f"{name}|{tuple(tensor.shape)}|{tensor.dtype}|".encode())
            digest.update(sample.to("cpu", torch.float64).numpy().tobytes())
    found = digest.hexdigest()
    with _LOCK:
        _MEMO[model] = found
    return found


def sweep_scratch(folder: Path) -> None:
    """Remove the ``.tmp`` scratch files in a cache folder of derived files (ONNX exports, Adapt features) last
    written over STALE_SCRATCH_S ago: a process killed mid-write leaves them, and nothing else ever would."""
    for path in folder.glob("*.tmp"):
        try:
            if time.time() - path.stat().st_mtime > STALE_SCRATCH_S:
                path.unlink()
        except OSError:  # removed meanwhile, or a read-only folder
            continue
