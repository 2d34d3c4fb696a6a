"""Torch configured once per process (threads, allocator, denormals) and the device to run on."""
from __future__ import annotations

import threading

from components.core import network_available, torch_threads

_torch_ready = threading.Lock()
_torch_configured = False


def configure_torch() -> str:
    """Configure torch once per process (threads, denormals); return the device name to use."""
    global _torch_configured
    network_available()  # decide offline switches before transformers can be imported
    import torch

    from components.models.measure import steady_allocator

    with _torch_ready:
        if not _torch_configured:
            torch.set_num_threads(torch_threads())
            steady_allocator()  # same malloc state for every model, whatever ran before
            _torch_configured = True
    # A per-thread CPU flag, and Streamlit runs each script run in a new thread: set it on every call.
    torch.set_flush_denormal(True)  # EfficientNet-Lite ran ~7x faster with it on these CPUs
    return device_name()


def device_name() -> str:
    """'cuda' when a GPU is visible to torch, else 'cpu'."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
