"""One factory, in the spirit of timm's ``create_model``: catalog entry + task + weights + runtime ->
a ready runner, loaded once per process through the shared model manager.

Importing this module imports the ``components.models.runners`` package, which registers every engine.
"""
from __future__ import annotations

from components.core import CatalogEntry, get_entry
from components.models.availability import Availability, compute_availability
from components.models.loaders.hub_files import IncompleteCheckpoint, not_only_weights, refused_pickle
from components.models.manager import LoadedModel, ModelKey, ModelManager, get_manager
from components.models.registry import CannotRun, Engine, engine_key, get_engine, runner_class
from components.models.runners.base import Runner
from components.models.runtimes.base import get_runtime, runtime_names  # noqa: F401  (served by the face)
from components.models.supply import HUB_KINDS, SupplyError, before_load, hub_failure, hub_repo
from components.models.torch_setup import configure_torch

__all__ = ["CannotRun", "create_runner", "fetch_weights", "resolve_weights", "runner_tasks"]


def resolve_weights(entry: CatalogEntry, weights: str, availability: Availability, task: str) -> str:
    """'auto' becomes 'real' when real weights can be had and a real runner serves ``task``, else
    'random' when the architecture builds offline (its cost can still be measured)."""
    if weights != "auto":
        return weights
    if availability.runnable and runner_class(entry, "real", task) is not None:
        return "real"
    if entry.architecture is not None:
        return "random"
    raise CannotRun(availability.reason)


def runner_tasks(entry: CatalogEntry, weights: str = "auto", extra_dir: str | None = None) -> tuple[str, ...]:
    """Tasks this entry has a runner for, with the given weights."""
    availability = compute_availability(entry, extra_dir)
    tasks = []
    for task in entry.tasks:
        try:
            resolved = resolve_weights(entry, weights, availability, task)
        except CannotRun:
            continue
        if runner_class(entry, resolved, task) is not None:
            tasks.append(task)
    return tuple(tasks)


def runtime_shown(entry: CatalogEntry, task: str, weights: str, runtime: str) -> str:
    """What a card names as the runtime that ran: its label, as the runtime picker shows it ("ONNX Runtime fp32"),
    except "eager" on an engine that PyTorch does not run, which names its own (faster-whisper: "CTranslate2").
    Results keep the runtime's name (Compare rows)."""
    engine = get_engine(engine_key(entry, weights, task))
    if runtime == "eager" and engine and engine.own_runtime:
        return engine.own_runtime
    return get_runtime(runtime).label if runtime in runtime_names() else runtime


def create_runner(entry: CatalogEntry, task: str | None = None, weights: str = "auto",
                  manager: ModelManager | None = None, extra_dir: str | None = None,
                  runtime: str = "eager") -> Runner:
    """Load (once per process) and return a runner for ``entry`` on ``task`` and ``runtime``.

    Raises CannotRun with a plain-language reason when the model cannot run here.
    """
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
    runner_cls = runner_class(entry, resolved, task)
    engine = get_engine(engine_key(entry, resolved, task))
    if runner_cls is None or engine is None:
        raise CannotRun(f"this app has no {task} runner for {entry.name} yet")
    if runtime not in engine.runtimes:
        raise CannotRun(f"{entry.name} does not run on the {runtime} runtime here "
                        f"(it runs on: {', '.join(engine.runtimes)})")
    manager = manager or get_manager()
    parts = tuple(create_runner(get_entry(part.model_id), part.task, "real", manager, extra_dir, runtime)
                  for part in engine.parts)
    if resolved == "real":
        try:  # on a page: the download as a visible, gated step (size, progress, Cancel) before loading
            before_load(entry, extra_dir)
        except SupplyError as exc:
            raise CannotRun(str(exc)) from None
    path = availability.weights_path if resolved == "real" else ""
    loaded = _load(entry, engine, resolved, runtime, path, parts, manager)
    runner = runner_cls(entry, loaded, parts=parts, runtime=get_runtime(runtime))
    runner.task = task  # one runner class can serve several tasks (e.g. random weights: any task)
    return runner


def fetch_weights(entry: CatalogEntry, task: str, weights: str = "auto", extra_dir: str | None = None) -> None:
    """The download step :func:`create_runner` passes before loading real weights (:func:`before_load`: size,
    progress, Cancel and the server's gate on a page; nothing elsewhere), without loading: for ``entry`` and
    the models it is composed of. Raises CannotRun when the step refuses or fails; a model that cannot run
    for another reason passes (create_runner says why)."""
    try:
        resolved = resolve_weights(entry, weights, compute_availability(entry, extra_dir), task)
    except CannotRun:
        return
    engine = get_engine(engine_key(entry, resolved, task)) if resolved == "real" else None
    if engine is None:
        return
    for part in engine.parts:
        fetch_weights(get_entry(part.model_id), part.task, "real", extra_dir)
    try:
        before_load(entry, extra_dir)
    except SupplyError as exc:
        raise CannotRun(str(exc)) from None


def _load(entry: CatalogEntry, engine: Engine, weights: str, runtime: str, path: str,
          parts: tuple[Runner, ...], manager: ModelManager) -> LoadedModel:
    device = configure_torch()
    extra = {"parts": parts} if engine.parts else {}

    def load() -> LoadedModel:
        return get_runtime(runtime).prepare(engine.loader(entry, device, path, **extra), entry)

    # a local Hub folder is part of the key: naming another folder loads that copy, not the cached one
    folder = path if path and entry.source.kind != "pypi" else ""
    try:
        return manager.get(ModelKey(entry.id, weights, engine.name, runtime, folder), load)
    except CannotRun:
        raise
    except IncompleteCheckpoint as exc:
        raise CannotRun(f"{entry.name} cannot load: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any engine failure becomes a readable reason
        if refused_pickle(exc):  # torch.load(weights_only=True) met a pickle that is not only tensors
            raise CannotRun(f"{entry.name} cannot load: {not_only_weights(path)}") from exc
        download = hub_failure(exc, hub_repo(entry)) if entry.source.kind in HUB_KINDS else None
        if download:  # the Hub refused, or stopped answering, or the disk filled up
            raise CannotRun(f"{entry.name} cannot load: {download}") from exc
        raise CannotRun(f"{entry.name} failed to load: {type(exc).__name__}: {exc}") from exc
