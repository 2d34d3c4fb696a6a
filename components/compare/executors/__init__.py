"""Where a comparison's (model, runtime) rows run: this process (``local``) or a Ray cluster (``ray``)."""
from __future__ import annotations

from components.compare.executors.base import Executor
from components.compare.executors.local import LocalExecutor

EXECUTORS = {"local": "This server, one model at a time", "ray": "A Ray cluster, models side by side"}  # name: label


def make_executor(name: str, address: str | None = None) -> Executor:
    """The executor called ``name``; Ray is imported only when it is chosen (and started when it runs).
    ``address``: the Ray cluster to join (None: $MODEL_EXPLORER_RAY_ADDRESS; empty: a new local one)."""
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        from components.compare.executors.ray_executor import RayExecutor

        return RayExecutor(address)
    raise ValueError(f"unknown executor '{name}' (executors: {', '.join(EXECUTORS)})")
