"""The Compare page's run controls: where rows run (this server or a Ray cluster), sets on the server's
disk, and resuming an unfinished run from the history."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from components.datasets import MAX_STREAMED_FILES, Dataset, load_dataset
from components.executors import make_executor
from components.executors.ray_executor import ADDRESS_ENV
from components.runs import ResumeError, RunPlan, load_resumable
from components.store import HistoryStore

EXECUTORS = {"local": "This server, one model at a time", "ray": "A Ray cluster, models side by side"}


def executor_settings() -> Any:
    """The "Executor" setting; returns the executor it names (Ray is imported only when chosen)."""
    st.session_state.setdefault("keep_cmp_executor", "local")
    kind = st.radio("Executor", list(EXECUTORS), format_func=EXECUTORS.get, horizontal=True,
                    key="keep_cmp_executor",
                    help="Ray runs each (model, runtime) as a task that reserves as many CPUs as its torch threads, "
                         "so two timings never share a core; large labelled sets are scored in shards across "
                         "workers. Rows have the same columns, with the worker's host in the environment.")
    if kind == "local":
        return make_executor("local")
    st.session_state.setdefault("keep_cmp_ray_address", os.environ.get(ADDRESS_ENV, ""))
    address = st.text_input("Ray cluster address", key="keep_cmp_ray_address",
                            placeholder="empty: start a local Ray on this server",
                            help=f"e.g. ray://head-node:10001 or head-node:6379 (default: ${ADDRESS_ENV}). "
                                 "The project folder is sent to a remote cluster's workers.")
    return make_executor("ray", address.strip())


@st.cache_data(max_entries=2, show_spinner="Checking the set on disk…")
def server_set(task: str, path: str, modified: float) -> Dataset:
    """A set on the server's disk, checked once per (path, modification time); folders and ZIPs stream."""
    return load_dataset(task, path)


def server_path_set(task: str) -> Dataset | None:
    """A text input for a file or folder on the server; its set, or None while the path is empty."""
    path = st.text_input(
        "Path on this server", key="keep_cmp_path", placeholder="/data/photos (class folders), set.zip or set.csv",
        help=f"A folder or ZIP is streamed: up to {MAX_STREAMED_FILES:,} files, read and decoded a batch at a "
             f"time, so thousands of samples fit in memory (uploads stop at 2,000 files).").strip()
    if not path:
        return None
    where = Path(path).expanduser()
    try:
        modified = where.stat().st_mtime
    except OSError:
        modified = 0.0  # load_dataset says why it cannot be read
    return server_set(task, str(where), modified)


def resume_request(store: HistoryStore | None, task: str) -> tuple[int, RunPlan, list[dict]] | None:
    """The unfinished runs of ``task`` with a Resume button; (run id, plan, saved rows) when pressed."""
    try:
        unfinished = store.unfinished_runs(task) if store is not None else []
    except Exception:  # noqa: BLE001 - a broken history file must not break the page
        return None
    if not unfinished:
        return None
    labels = {r["id"]: (f"#{r['id']} {r['created_at'][:16]} · {r['n_results']} of "
                        f"{len(r['meta'].get('models', [])) * len(r['meta'].get('runtimes', ['eager']))} rows · "
                        f"{r['meta'].get('status')}") for r in unfinished}
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    run_id = c1.selectbox("Unfinished runs", list(labels), format_func=labels.get, key="cmp_resume_run",
                          help="Runs cut short (a crash, a closed page, Cancel) or with a failed row. Resume "
                               "measures only the rows the history lacks.")
    if not c2.button("Resume", icon=":material/replay:", key="cmp_resume"):
        return None
    try:
        plan, saved = load_resumable(store, run_id)
    except ResumeError as exc:
        st.warning(str(exc), icon=":material/warning:")
        return None
    return run_id, plan, saved
