"""A model download as a visible step of whatever page loads the model: its size first, then a bar with bytes,
speed and time left, and a Cancel button; refused with the reason when this server does not allow page downloads.
Installed once around every page (app.py), so Compare, Adapt, Explain and the playgrounds share it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from components.core import CatalogEntry
from components.models import Plan, Progress, cancel_download, cancelled_line, download_step, page_download
from components.ui.widgets.format import literal

CANCELLED = "download_cancelled"  # the line a Cancel leaves for the rerun its click starts


@contextmanager
def model_downloads() -> Iterator[None]:
    """Within the body, a model that loads from the Hub downloads through :func:`show_download`; a download
    cancelled on the run before says so first."""
    note = st.session_state.pop(CANCELLED, None)
    if note:
        st.warning(literal(note[0].upper() + note[1:]), icon=":material/cancel:")
    with download_step(show_download):
        yield


def show_download(entry: CatalogEntry, extra_dir: str | None) -> None:
    """Download ``entry`` (when it is not on this server yet) with its size, progress and a Cancel button drawn
    where the page is; the drawing is removed once the download ends."""
    drawn: dict[str, Any] = {}

    def show(plan: Plan, progress: Progress | None) -> None:
        if not drawn:
            drawn["box"] = st.empty()
            with drawn["box"].container():
                drawn["bar"] = st.progress(0.0)
                st.button("Cancel download", key=f"cancel_download_{plan.repo}", icon=":material/cancel:",
                          on_click=_cancel, args=(plan.repo,))
        drawn["bar"].progress(*_bar(entry, plan, progress))

    try:
        page_download(entry, show, extra_dir)
    finally:
        if drawn:
            drawn["box"].empty()


def _cancel(repo: str) -> None:
    """The Cancel button: stop the download. Its click reruns the page (the run that drew the bar ends), so
    the line saying so is kept for that rerun."""
    if cancel_download(repo):
        st.session_state[CANCELLED] = cancelled_line(repo)


def _bar(entry: CatalogEntry, plan: Plan, progress: Progress | None) -> tuple[float, str]:
    """The bar's fraction and text: the size before any byte, then bytes, speed and time left."""
    if progress is None:
        return 0.0, f"Downloading {entry.name} ({plan.missing_bytes / 1e6:,.1f} MB) from the Hub…"
    return progress.fraction, f"Downloading {entry.name}: {progress.line()}"
