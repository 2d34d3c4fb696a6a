"""Process-wide runtime facts: network reachability, Hugging Face offline switches, torch settings.

Network detection runs once per process with a short timeout (DNS included) and, when the Hub is
unreachable, sets the Hugging Face offline switches before transformers is imported.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
from functools import lru_cache

HUB_HOST = "huggingface.co"
NETWORK_TIMEOUT_S = 1.5
OFFLINE_ENV = "MODEL_EXPLORER_OFFLINE"
THREADS_ENV = "MODEL_EXPLORER_TORCH_THREADS"
HF_OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


def _probe(host: str, port: int, result: list[bool]) -> None:
    try:
        with socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S):
            result.append(True)
    except OSError:
        result.append(False)


@lru_cache(maxsize=1)
def network_available() -> bool:
    """True when the Hugging Face Hub answers a TCP connect; decided once, never blocks > ~2 s."""
    forced = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if forced in ("1", "true", "yes"):
        available = False
    elif os.environ.get("HF_HUB_OFFLINE", "").strip() in ("1", "true", "YES"):
        available = False
    else:
        result: list[bool] = []
        worker = threading.Thread(target=_probe, args=(HUB_HOST, 443, result), daemon=True)
        worker.start()
        worker.join(NETWORK_TIMEOUT_S + 0.5)  # getaddrinfo ignores socket timeouts: bound it here
        available = bool(result and result[0])
    if not available:
        set_hf_offline()
    return available


def set_hf_offline() -> None:
    """Set the Hugging Face offline switches (read at import time by huggingface_hub)."""
    for name in HF_OFFLINE_SWITCHES:
        os.environ[name] = "1"
    if "huggingface_hub" in sys.modules:  # imported already: update its constant too
        try:
            from huggingface_hub import constants

            constants.HF_HUB_OFFLINE = True
        except (ImportError, AttributeError):
            pass


def torch_threads() -> int:
    """Torch intra-op threads per inference: 1 unless MODEL_EXPLORER_TORCH_THREADS says otherwise.

    Measured with scripts/bench_threads.py on the 2-core machine (EfficientNet-Lite0 p50): idle, two
    threads were faster (12.9 ms vs 17.6 ms); with the other core busy (a second session, a test run)
    two threads collapsed (268 ms vs 29 ms). A shared classroom server is the busy case, so one thread.
    """
    try:
        return max(1, int(os.environ.get(THREADS_ENV, "1")))
    except ValueError:
        return 1


_torch_ready = threading.Lock()
_torch_configured = False


def configure_torch() -> str:
    """Configure torch once per process (threads, denormals); return the device name to use."""
    global _torch_configured
    network_available()  # decide offline switches before transformers can be imported
    import torch

    from components.measure import steady_allocator

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
