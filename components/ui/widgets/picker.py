"""Model picker: the models that can run a task here, and why the others cannot."""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components.core import CatalogEntry, limits
from components.models import (
    default_runtime,
    get_runtime,
    needs_download,
    runner_tasks,
    runtime_names,
)
from components.serve import serve_address
from components.ui.shell.server_files import models_dir
from components.ui.views.catalog import availability_map, catalog_or_stop
from components.ui.views.run import model_slot


def runnable_models(task: str, weights: str = "real") -> tuple[list[CatalogEntry], list[tuple[CatalogEntry, str]]]:
    """(entries that run ``task`` here, [(entry, reason) for those that cannot]); ``weights="auto"`` counts
    an architecture built with random weights as running (Compare measures its cost)."""
    weights_dir = models_dir()
    availability = availability_map(weights_dir or "")
    ready, blocked = [], []
    for entry in catalog_or_stop():
        if task not in entry.tasks:
            continue
        status = availability[entry.id]
        if (status.runnable or weights == "auto") and task in runner_tasks(entry, weights, weights_dir):
            ready.append(entry)
        elif not status.runnable:
            blocked.append((entry, f"{status.label}: {status.reason}"))
        else:
            blocked.append((entry, f"this app has no {task} runner for it yet"))
    return ready, blocked


def pick_models(task: str, key: str, defaults: tuple[str, ...] = ()) -> list[CatalogEntry]:
    """Multiselect of runnable models (state kept across reruns and pages)."""
    ready, blocked = runnable_models(task)
    ids = [e.id for e in ready]
    names = {e.id: e.name for e in ready}
    if key not in st.session_state:
        st.session_state[key] = [d for d in defaults if d in ids] or ids[:1]
    st.session_state[key] = [i for i in st.session_state[key] if i in ids]
    left, right = st.columns([4, 1])
    chosen = left.multiselect("Models", ids, format_func=names.get, key=key,
                              help="Every selected model gets the same input; one card each.")
    right.button("Select all", key=f"select_all_{key}", disabled=len(ids) < 2,
                 on_click=lambda: st.session_state.__setitem__(key, ids))
    if blocked:
        with st.expander(f"{len(blocked)} more {task} model{'' if len(blocked) == 1 else 's'} in the catalog "
                         "cannot run here — why"):
            for entry, reason in blocked:
                st.markdown(f"- **{entry.name}** — {reason}")
    return [e for e in ready if e.id in chosen]


def pick_runtime(key: str, models: Sequence[CatalogEntry] = (), task: str = "") -> str:
    """The runtime every selected model runs on (a model that cannot says so on its card); it starts on the one
    measured to answer like eager for ``models`` (:func:`components.models.default_runtime`)."""
    if st.session_state.get(key) is None:  # first view, or the chosen runtime clicked again (which unselects it)
        st.session_state[key] = _measured_default(models, task) if models else "eager"
    choice = st.segmented_control(
        "Runtime", list(runtime_names()), key=key, format_func=lambda n: get_runtime(n).label,
        help="The same model on PyTorch eager or ONNX Runtime (fp32, int8): the answer should stay, the "
             "latency change. The first ONNX run exports the model once and caches it on disk.")
    return choice or "eager"


def _measured_default(models: Sequence[CatalogEntry], task: str) -> str:
    """The default runtime for ``models``: measured once per server and weights (a few seconds the first time)."""
    from components.datasets import load_bundled

    folder = models_dir()
    if serve_address():
        return "eager"  # the models run on Ray Serve: measuring here would load them into this process
    if any(needs_download(entry, folder) for entry in models):
        return "eager"  # measuring would download the model: opening a page never does
    try:
        with model_slot("Checking the runtime"), \
                st.spinner("Checking once which runtime answers like PyTorch eager on the bundled set…"):
            return default_runtime(models, task, lambda: load_bundled(task).inputs, folder)
    except limits.Refused:  # the server is busy: eager now, measured by a later visit
        return "eager"
