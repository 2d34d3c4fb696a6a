"""Process-wide runtime facts: network reachability, Hugging Face offline switches, torch settings.

Network detection runs once per process with a short timeout (DNS included) and, when the Hub is
unreachable, sets the Hugging Face offline switches before transformers is imported.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import urllib.request
from functools import lru_cache
from urllib.parse import urlsplit

HUB_HOST = "huggingface.co"
ENDPOINT_ENV = "HF_ENDPOINT"
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


def hub_endpoint() -> str:
    """The Hub endpoint in use: ``HF_ENDPOINT`` when set (a mirror, a proxy cache), else the Hugging Face Hub;
    read like huggingface_hub reads it."""
    return (os.environ.get(ENDPOINT_ENV, "").strip() or f"https://{HUB_HOST}").rstrip("/")


def _host_port(url: str, default_scheme: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"{default_scheme}://{url}")
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def probe_target(endpoint: str | None = None) -> tuple[str, int, bool]:
    """(host, port, through a proxy) that a request to ``endpoint`` connects to first: the proxy that the
    environment names for its scheme (``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY``) unless ``NO_PROXY``
    covers its host, as requests and httpx read them (urllib's rules); else the endpoint's own host and port."""
    endpoint = endpoint or hub_endpoint()
    host, port = _host_port(endpoint, "https")
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(urlsplit(endpoint).scheme or "https") or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass_environment(host, proxies):
        return (*_host_port(proxy, "http"), True)
    return host, port, False


@lru_cache(maxsize=1)
def network_available() -> bool:
    """True when the Hub endpoint in use (or the proxy in front of it) answers a TCP connect; decided once,
    never blocks > ~2 s."""
    forced = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if forced in ("1", "true", "yes"):
        available = False
    elif os.environ.get("HF_HUB_OFFLINE", "").strip() in ("1", "true", "YES"):
        available = False
    else:
        host, port, _ = probe_target()
        result: list[bool] = []
        worker = threading.Thread(target=_probe, args=(host, port, result), daemon=True)
        worker.start()
        worker.join(NETWORK_TIMEOUT_S + 0.5)  # getaddrinfo ignores socket timeouts: bound it here
        available = bool(result and result[0])
    if not available:
        set_hf_offline()
    return available


def endpoint_line(online: bool) -> str:
    """One line naming the endpoint in use (and the proxy in front of it), for Home and the Catalog."""
    endpoint = hub_endpoint()
    host, port, proxied = probe_target(endpoint)
    via = f" through the proxy {host}:{port}" if proxied else ""
    state = "reachable" if online else "not reachable"
    return f":material/dns: Hub endpoint: `{endpoint}`{via} ({state})"


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
