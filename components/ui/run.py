"""Run several models on one input with a progress bar; failures become readable card errors."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import streamlit as st

from components.catalog import CatalogEntry
from components.inputs import InputError
from components.measure import PeakMemory
from components.model_extras import Extras
from components.model_manager import get_manager
from components.runners.base import RunResult
from components.runners.factory import CannotRun, create_runner
from components.ui.server_files import models_dir

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


def run_models(entries: list[CatalogEntry], task: str, inputs: Any, runtime: str = "eager",
               **options: Any) -> list[CardData]:
    """Load (once per process) and run each model on ``inputs`` and ``runtime``, showing progress."""
    cards: list[CardData] = []
    bar = st.progress(0.0, text="Starting…")
    steps = max(1, 2 * len(entries))
    manager = get_manager()
    for i, entry in enumerate(entries):
        card = CardData(entry)
        cards.append(card)
        try:
            was_loaded = any(key.startswith(f"{entry.id}:") and f":{runtime}" in key for key, _ in manager.loaded())
            on = "" if runtime == "eager" else f" on {runtime} (the first time exports it, a few seconds)"
            bar.progress((2 * i) / steps, text=f"Loading {entry.name}{on} ({i + 1}/{len(entries)})…"
                         if not was_loaded else f"{entry.name} is loaded ({i + 1}/{len(entries)})")
            # the folder named in the sidebar made this model selectable: loading must look there too
            runner = create_runner(entry, task, weights="real", runtime=runtime, extra_dir=models_dir())
            card.loaded_now = not was_loaded
            card.model_extras = runner.loaded.extras
            bar.progress((2 * i + 1) / steps, text=f"Running {entry.name} ({i + 1}/{len(entries)})…")
            with PeakMemory() as peak:
                card.result = runner.run(inputs, **options)
            card.peak_rss_mb = peak.peak_mb
        except (CannotRun, InputError) as exc:
            card.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one failing model must not stop the others
            log.exception("model %s failed on %s", entry.id, task)
            card.error = f"{entry.name} failed on this input: {type(exc).__name__}: {exc}"
    bar.progress(1.0, text=f"Done: {sum(c.result is not None for c in cards)} of {len(cards)} models answered")
    return cards
