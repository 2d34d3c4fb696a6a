"""The engine registry, in timm's style: runner modules register their engines when the
``components.models.runners`` package is imported; :mod:`components.models.factory` builds runners from it.

An engine couples a loader (``entry, device, weights_path[, parts] -> LoadedModel``) with the runner
class per task, the runtimes it can run on, and the parts it is built from (ConSE: two other models).
This module imports no runner or engine code.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from components.core import TASKS, CatalogEntry
from components.models.manager import LoadedModel

if TYPE_CHECKING:
    from components.models.runners.base import Runner

Loader = Callable[..., LoadedModel]  # (entry, device, weights_path[, parts]) -> LoadedModel
ANY_TASK = "*"
TORCH_RUNTIMES = ("eager", "onnx", "onnx-int8")  # a torch module exports to ONNX Runtime (runners/onnx_runtime.py)


@dataclass(frozen=True)
class Part:
    """A model an engine is built from, created by the factory and handed to its loader and runner."""

    model_id: str
    task: str


@dataclass(frozen=True)
class Engine:
    name: str
    loader: Loader
    runners: dict[str, type[Runner]]  # task -> runner class; ANY_TASK serves every task
    runtimes: tuple[str, ...] = ("eager",)
    parts: tuple[Part, ...] = ()
    own_runtime: str = ""  # what runs it on "eager" where that is not PyTorch (CTranslate2, fastText, …)


_ENGINES: dict[str, Engine] = {}


class CannotRun(RuntimeError):
    """This entry cannot run here for this task; the message says why, in plain words."""


def register_engine(name: str, loader: Loader, runners: dict[str, type[Runner]],
                    runtimes: tuple[str, ...] = ("eager",), parts: tuple[Part, ...] = (),
                    own_runtime: str = "") -> Engine:
    """Add an engine (a second registration under the same name replaces the first)."""
    engine = Engine(name, loader, dict(runners), tuple(runtimes), tuple(parts), own_runtime)
    _ENGINES[name] = engine
    return engine


def get_engine(name: str | None) -> Engine | None:
    return _ENGINES.get(name) if name else None


def engine_names() -> tuple[str, ...]:
    return tuple(_ENGINES)


def engine_key(entry: CatalogEntry, weights: str, task: str) -> str | None:
    """Which engine runs ``entry`` on ``task`` with ``weights`` ('real' or 'random'); None if none does."""
    if weights == "random":
        return "architecture"
    if entry.source.kind == "pypi":
        return entry.source.engine
    spec = TASKS.get(task)
    return spec.hub_engines.get(entry.source.kind) if spec else None


def runner_class(entry: CatalogEntry, weights: str, task: str) -> type[Runner] | None:
    engine = get_engine(engine_key(entry, weights, task))
    if engine is None:
        return None
    return engine.runners.get(task) or engine.runners.get(ANY_TASK)
