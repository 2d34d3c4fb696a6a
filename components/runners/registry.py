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
    # Always import (no "if not ENGINES" shortcut): the import lock makes a second session thread wait
    # until every engine is registered instead of seeing a half-filled registry.
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


def resolve_weights(entry: CatalogEntry, weights: str, availability: Availability, task: str) -> str:
    """'auto' becomes 'real' when real weights can be had and a real runner serves ``task``, else
    'random' when the architecture builds offline (its cost can still be measured)."""
    if weights != "auto":
        return weights
    if availability.runnable and _runner_class(entry, "real", task) is not None:
        return "real"
    if entry.architecture is not None:
        return "random"
    raise CannotRun(availability.reason)


def runner_tasks(entry: CatalogEntry, weights: str = "auto", extra_dir: str | None = None) -> tuple[str, ...]:
    """Tasks this entry has a runner for, with the given weights."""
    _ensure_engines()
    availability = compute_availability(entry, extra_dir)
    tasks = []
    for task in entry.tasks:
        try:
            resolved = resolve_weights(entry, weights, availability, task)
        except CannotRun:
            continue
        if _runner_class(entry, resolved, task) is not None:
            tasks.append(task)
    return tuple(tasks)


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
    if not availability.runnable and entry.architecture is None:
        raise CannotRun(availability.reason)  # API-only, unreleased, …: the most useful reason
    task = task or entry.tasks[0]
    if task not in entry.tasks:
        raise CannotRun(f"{entry.name} does not do {task} (it does: {', '.join(entry.tasks)})")
    resolved = resolve_weights(entry, weights, availability, task)
    if resolved == "real" and not availability.runnable:
        raise CannotRun(availability.reason)
    if resolved == "random" and entry.architecture is None:
        raise CannotRun(f"{entry.name} has no architecture that builds offline")
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
    runner = runner_cls(entry, loaded)
    runner.task = task  # one runner class can serve several tasks (e.g. random weights: any task)
    return runner
