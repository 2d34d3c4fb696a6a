"""The runtime seam: how a loaded model's forward pass executes, chosen apart from the catalog entry.

``eager`` (here): the engine's own call (PyTorch eager for torch models, the engine's library
otherwise), without autograd unless a caller asks for gradients. Another runtime registers here,
converts a loaded model in :meth:`Runtime.prepare`, and engines list it in their ``runtimes``
(``onnx_runtime.py`` adds ONNX Runtime fp32 and int8 this way).
"""
from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext

from components.core import CatalogEntry
from components.models.manager import LoadedModel


class Runtime:
    """Eager execution: the loaded model as it is."""

    name = "eager"
    label = "PyTorch eager"  # for engines without torch: the engine's own runtime
    gradients = True  # forward passes can give gradients and feature maps (Grad-CAM, integrated gradients)
    int8 = False  # quantised weights: eager (fp32) is the model they were quantised from

    def prepare(self, loaded: LoadedModel, entry: CatalogEntry) -> LoadedModel:
        """The model this runtime runs (eager: the loaded one, unchanged)."""
        return loaded

    def details(self, loaded: LoadedModel) -> dict[str, str]:
        """What this runtime chose for ``loaded`` (kept in a result's environment); eager: nothing."""
        return {}

    def context(self, gradients: bool = False) -> AbstractContextManager:
        """Around every forward pass: torch's inference mode, or autograd on when ``gradients``."""
        torch = sys.modules.get("torch")  # an engine without torch never imports it for this
        if torch is None:
            return nullcontext()
        return torch.enable_grad() if gradients else torch.inference_mode()


EAGER = Runtime()
_RUNTIMES: dict[str, Runtime] = {EAGER.name: EAGER}


def register_runtime(runtime: Runtime) -> None:
    _RUNTIMES[runtime.name] = runtime


def get_runtime(name: str) -> Runtime:
    try:
        return _RUNTIMES[name]
    except KeyError:
        raise KeyError(f"unknown runtime '{name}' (runtimes: {', '.join(_RUNTIMES)})") from None


def runtime_names() -> tuple[str, ...]:
    return tuple(_RUNTIMES)
