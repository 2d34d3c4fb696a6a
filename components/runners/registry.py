"""One registry of engines and one factory, in the spirit of timm's ``create_model``.

An engine couples a loader (``entry, device, weights_path -> LoadedModel``) with the runner class per task.
``create_runner`` picks the engine for an entry, loads through the shared model manager and
returns a ready runner.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from components.availability import Availability, compute_availability
from components.catalog import CatalogEntry
from components.model_manager import LoadedModel, ModelManager, get_manager
from components.runners.base import Runner
from components.runtime import configure_torch

Loader = Callable[[CatalogEntry, str, str], LoadedModel]  # (entry, device, weights_path)


@dataclass(frozen=True)
class Engine:
    name: str
    loader: Loader
    runners: dict[str, type[Runner]]  # task -> runner class


ENGINES: dict[str, Engine] = {}


def register_engine(name: str, loader: Loader, runners: dict[str, type[Runner]]) -> None:
    ENGINES[name] = Engine(name, loader, runners)


class CannotRun(RuntimeError):
    """This entry cannot run here for this task; the message says why, in plain words."""


def _ensure_engines() -> None:
    if not ENGINES:
        import components.runners.engines  # noqa: F401  (registers every engine)


def engine_key(entry: CatalogEntry, weights: str, task: str) -> str:
    """Which engine runs ``entry`` on ``task`` with ``weights`` ('real' or 'random')."""
    if weights == "random":
        return "architecture"
    if entry.source.kind == "pypi":
        return entry.source.engine
    if entry.source.kind == "transformers":
        return f"transformers:{'sentiment-analysis' if task == 'text-classification' else task}"
    return entry.source.kind  # timm / torchvision


def resolve_weights(entry: CatalogEntry, weights: str, availability: Availability) -> str:
    """'auto' becomes 'real' when real weights can be had, else 'random' when the architecture builds."""
    if weights != "auto":
        return weights
    if availability.runnable:
        return "real"
    if entry.architecture is not None and availability.status == "architecture-only":
        return "random"
    raise CannotRun(availability.reason)


def runner_tasks(entry: CatalogEntry, weights: str = "auto") -> tuple[str, ...]:
    """Tasks this entry has a runner for, with the given weights."""
    _ensure_engines()
    try:
        resolved = resolve_weights(entry, weights, compute_availability(entry))
    except CannotRun:
        return ()
    return tuple(t for t in entry.tasks if _runner_class(entry, resolved, t) is not None)


def _runner_class(entry: CatalogEntry, weights: str, task: str) -> type[Runner] | None:
    engine = ENGINES.get(engine_key(entry, weights, task))
    if engine is None:
        return None
    return engine.runners.get(task) or engine.runners.get("*")


def create_runner(entry: CatalogEntry, task: str | None = None, weights: str = "auto",
                  manager: ModelManager | None = None, extra_dir: str | None = None) -> Runner:
    """Load (once per process) and return a runner for ``entry`` on ``task``.

    Raises CannotRun with a plain-language reason when the model cannot run here.
    """
    _ensure_engines()
    availability = compute_availability(entry, extra_dir)
    resolved = resolve_weights(entry, weights, availability)
    if resolved == "real" and not availability.runnable:
        raise CannotRun(availability.reason)
    if resolved == "random" and entry.architecture is None:
        raise CannotRun(f"{entry.name} has no architecture that builds offline")
    task = task or entry.tasks[0]
    if task not in entry.tasks:
        raise CannotRun(f"{entry.name} does not do {task} (it does: {', '.join(entry.tasks)})")
    runner_cls = _runner_class(entry, resolved, task)
    if runner_cls is None:
        raise CannotRun(f"this app has no {task} runner for {entry.name} yet")
    engine = ENGINES[engine_key(entry, resolved, task)]
    device = configure_torch()
    path = availability.weights_path if resolved == "real" else ""
    manager = manager or get_manager()
    try:
        loaded = manager.get(f"{entry.id}:{resolved}:{engine.name}", lambda: engine.loader(entry, device, path))
    except CannotRun:
        raise
    except Exception as exc:  # noqa: BLE001 - any engine failure becomes a readable reason
        raise CannotRun(f"{entry.name} failed to load: {type(exc).__name__}: {exc}") from exc
    return runner_cls(entry, loaded)
