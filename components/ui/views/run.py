"""Run several models on one input with a progress bar; failures become readable card errors."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.core import CatalogEntry, InputError, limits
from components.models import (
    CannotRun,
    Extras,
    PeakMemory,
    Plan,
    Progress,
    RunResult,
    SupplyError,
    create_runner,
    get_manager,
    page_download,
)
from components.ui.shell.server_files import models_dir

log = logging.getLogger(__name__)


@dataclass
class CardData:
    """What one result card shows: a result, or why there is none."""

    entry: CatalogEntry
    result: RunResult | None = None
    error: str = ""
    peak_rss_mb: float = 0.0
    loaded_now: bool = False
    model_extras: Extras | None = None  # e.g. the transform the model used


@contextmanager
def model_slot(what: str) -> Iterator[None]:
    """Hold one of the server's model-work slots (:mod:`components.core.limits`) for the body; while it waits, a line
    says its place in the queue. Raises ``limits.Refused`` (one line) when the queue is full, the wait too long
    or this session's work budget spent."""
    run = get_script_run_ctx()
    notice = st.empty()

    def waiting(position: int) -> None:
        notice.info(f"{what} waits for the models other visitors are running: number {position} in the queue.",
                    icon=":material/hourglass_top:")

    try:
        with limits.model_work(run.session_id if run else "", waiting):
            notice.empty()
            yield
    finally:
        notice.empty()


def refusal(exc: limits.Refused) -> None:
    """A request over a limit: its one line."""
    st.error(str(exc), icon=":material/block:")


def run_models(entries: list[CatalogEntry], task: str, inputs: Any, runtime: str = "eager",
               **options: Any) -> list[CardData]:
    """Load (once per process) and run each model on ``inputs`` and ``runtime``, showing progress, as one job
    of the server's queue. Raises ``limits.Refused`` over a limit: app.py shows it as one line."""
    limits.check(limits.MAX_MODELS, len(entries))
    with model_slot(f"Running {len(entries)} model(s)"):
        return _run_each(entries, task, inputs, runtime, **options)


def _run_each(entries: list[CatalogEntry], task: str, inputs: Any, runtime: str, **options: Any) -> list[CardData]:
    cards: list[CardData] = []
    bar = st.progress(0.0, text="Starting…")
    steps = max(1, 2 * len(entries))
    manager = get_manager()
    for i, entry in enumerate(entries):
        card = CardData(entry)
        cards.append(card)
        try:
            was_loaded = manager.is_loaded(entry.id, runtime)
            on = "" if runtime == "eager" else f" on {runtime} (the first time exports it, a few seconds)"
            bar.progress((2 * i) / steps, text=f"Loading {entry.name}{on} ({i + 1}/{len(entries)})…"
                         if not was_loaded else f"{entry.name} is loaded ({i + 1}/{len(entries)})")
            if not was_loaded:  # a Hub model not on this server yet: its size, then its download's progress
                page_download(entry, _download_shown(bar, entry, (2 * i) / steps), models_dir())
            # the folder named in the sidebar made this model selectable: loading must look there too
            runner = create_runner(entry, task, weights="real", runtime=runtime, extra_dir=models_dir())
            card.loaded_now = not was_loaded
            card.model_extras = runner.loaded.extras
            bar.progress((2 * i + 1) / steps, text=f"Running {entry.name} ({i + 1}/{len(entries)})…")
            with PeakMemory() as peak:
                card.result = runner.run(inputs, **options)
            card.peak_rss_mb = peak.peak_mb
        except (CannotRun, InputError, SupplyError) as exc:
            card.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one failing model must not stop the others
            log.exception("model %s failed on %s", entry.id, task)
            card.error = f"{entry.name} failed on this input: {type(exc).__name__}: {exc}"
    bar.progress(1.0, text=f"Done: {sum(c.result is not None for c in cards)} of {len(cards)} models answered")
    return cards


def _download_shown(bar: Any, entry: CatalogEntry, at: float) -> Callable[[Plan, Progress | None], None]:
    """What a download shows on the run's progress bar: its size first, then bytes, speed and time left."""
    def show(plan: Plan, progress: Progress | None) -> None:
        if progress is None:
            bar.progress(at, text=f"Downloading {entry.name} ({plan.missing_bytes / 1e6:,.1f} MB) from the Hub…")
        else:
            bar.progress(progress.fraction, text=f"Downloading {entry.name}: {progress.line()}")

    return show
