"""The Compare page's run controls: where rows run (this server or a Ray cluster), sets on the server's
disk, and resuming an unfinished run from the history."""
from __future__ import annotations

import os
import time
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.compare import (
    ADDRESS_ENV,
    EXECUTORS,
    RUNNING,
    HistoryStore,
    ResumeError,
    RunPlan,
    in_use,
    load_resumable,
    make_executor,
    owner,
    page_ray_off,
)
from components.datasets import MAX_STREAMED_FILES, Dataset, load_dataset
from components.ui.shell.server_files import DATA_ROOTS_ENV, data_roots, shared_path
from components.ui.shell.share import setting
from components.ui.widgets.format import literal

STOP_WAIT_S = 120  # how long the page looks for a stopped run to be marked before it says so and stops looking
SHARE_HISTORY_ENV = "MODEL_EXPLORER_SHARE_HISTORY"  # "1": every visitor sees and resumes every saved run


def visitor() -> str:
    """This browser session's id (Streamlit's; a reload starts a new one), kept on the runs it starts."""
    run = get_script_run_ctx()
    return run.session_id if run else ""


def visible_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The saved runs this visitor may see and resume: their own session's, or every run when the operator
    shares the history (MODEL_EXPLORER_SHARE_HISTORY=1). Runs name uploads and server paths: never another's."""
    if os.environ.get(SHARE_HISTORY_ENV, "").strip() == "1":
        return runs
    me = visitor()
    return [r for r in runs if me and r["meta"].get("session") == me]


def executor_settings() -> Any:
    """The "Executor" setting; returns the executor it names (Ray is imported only when chosen). The
    cluster is chosen by whoever starts the server (MODEL_EXPLORER_RAY_ADDRESS), never by a page user:
    joining a cluster runs what it sends back, and sends it the project folder and settings. Ray is offered
    only when the operator enabled it (:func:`page_ray_off`); otherwise the setting says why it is off."""
    off = page_ray_off()
    st.session_state.setdefault("keep_cmp_executor", "local")
    if off:
        st.session_state["keep_cmp_executor"] = "local"  # a Ray choice made before the operator turned it off
    kind = st.radio("Executor", [name for name in EXECUTORS if not (off and name == "ray")],
                    format_func=EXECUTORS.get, horizontal=True, key="keep_cmp_executor",
                    help="Ray runs each (model, runtime) as a task that reserves as many CPUs as its torch threads, "
                         "so two timings never share a core; large labelled sets are scored in shards across "
                         "workers. Rows have the same columns, with the worker's host in the environment.")
    if off:
        st.caption(off)
    if kind == "local":
        return make_executor("local")
    address = os.environ.get(ADDRESS_ENV, "").strip()
    with st.container(key="cmp_ray_address"):
        st.caption(f"Ray cluster: {address} (set by {ADDRESS_ENV} where the server starts)" if address else
                   f"Ray cluster: a local Ray started on this server, on 127.0.0.1 only ({ADDRESS_ENV} names a "
                   "cluster to join)")
    return make_executor("ray", address)


@st.cache_data(max_entries=2, show_spinner="Checking the set on disk…")
def server_set(task: str, path: str, modified: float) -> Dataset:
    """A set on the server's disk, checked once per (path, modification time); folders and ZIPs stream."""
    return load_dataset(task, path, roots=data_roots())


def server_path_set(task: str) -> Dataset | None:
    """A text input for a file or folder on the server, inside the shared data roots; its set, or None while
    the path is empty or not allowed (a message says why)."""
    roots = data_roots()
    if not roots:
        st.info(f"Sets on this server's disk are off: whoever runs the server lists the folders its users may "
                f"read in {DATA_ROOTS_ENV} (README, Configuration). The CLI reads any path: "
                f"`python -m components.bench --dataset PATH`.", icon=":material/lock:")
        return None
    shared = ", ".join(str(root) for root in roots)
    path = setting("compare", "path").draw(
        st.text_input, placeholder=f"a folder (class folders), ZIP or CSV in {shared}",
        help=f"Inside {shared}. A folder or ZIP is streamed: up to {MAX_STREAMED_FILES:,} files, read and decoded "
             f"a batch at a time, so thousands of samples fit in memory (uploads stop at 2,000 files).").strip()
    if not path:
        return None
    where = shared_path(path)
    if where is None:
        st.warning(f"{literal(path)} is outside the folders this server shares ({literal(shared)}).",
                   icon=":material/lock:")
        return None
    try:
        modified = where.stat().st_mtime
    except OSError:
        modified = 0.0  # load_dataset says why it cannot be read
    return server_set(task, str(where), modified)


def resume_request(store: HistoryStore | None, task: str) -> tuple[int, RunPlan, list[dict]] | None:
    """The unfinished runs of ``task`` this page may resume, with a Resume button; (run id, plan, saved
    rows) when pressed. Runs still under way (:func:`components.compare.runs.in_use`) and runs on a set outside
    the shared folders (a CLI run on a private set or weights folder) are not offered."""
    try:
        unfinished = store.unfinished_runs(task) if store is not None else []
    except Exception:  # noqa: BLE001 - a broken history file must not break the page
        return None
    unfinished = [r for r in visible_runs(unfinished) if in_use(r) is None and readable_here(r["meta"])]
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
        st.warning(literal(exc), icon=":material/warning:")
        return None
    return run_id, plan, saved


def show_run_notes(notes: list[tuple[str, str]]) -> None:
    """What a run's last pass said before the page reran: its time ("done"), an "error", a "warning"."""
    for kind, text in notes:
        if kind == "done":
            st.progress(1.0, text=text)
        elif kind == "error":
            st.error(literal(text), icon=":material/warning:")
        else:
            st.warning(literal(text), icon=":material/warning:")


def stopping(store: HistoryStore | None, run_id: int | None) -> bool:
    """Whether run ``run_id`` is still marked running by this process: a pass stopped by Cancel (or a click
    during a run) that has not reached its next step. A new pass of the page starts at once, so the Unfinished
    runs picker cannot offer that run yet. Look before the picker is drawn: a run marked in between is then
    offered, not missed."""
    if store is None or run_id is None:
        return False
    try:
        meta = store.run_meta(run_id)
    except Exception:  # noqa: BLE001 - a broken history file must not break the page
        return False
    return meta is not None and meta.get("status") == RUNNING and meta.get("owner") == owner()


def run_started(run_id: int) -> None:
    """Remember the run under way (Cancel's wait looks for it); a resumed run waits afresh after a new Cancel."""
    st.session_state["compare_run_id"] = run_id
    st.session_state.pop(f"compare_stopping_{run_id}", None)


def await_stop(store: HistoryStore, run_id: int) -> None:
    """Say that run ``run_id`` is stopping and look every second, rerunning the page once it is marked; after
    STOP_WAIT_S (a step stuck in a long load, a history write that failed) say so and stop looking."""
    since = st.session_state.setdefault(f"compare_stopping_{run_id}", time.time())
    if time.time() - since > STOP_WAIT_S:
        st.caption(f"Run #{run_id} is still marked running {STOP_WAIT_S} s after it was stopped: it is offered "
                   "for Resume once its current step ends (reload the page then).")
        return
    _poll_stop(store, run_id, since)


@st.fragment(run_every=1.0)
def _poll_stop(store: HistoryStore, run_id: int, since: float) -> None:
    """Every second: the whole page again once the run is marked (its picker then offers it) or the wait is over."""
    if not stopping(store, run_id) or time.time() - since > STOP_WAIT_S:
        st.rerun()
    st.caption(f"Stopping run #{run_id} after its current step…")


def readable_here(meta: dict[str, Any]) -> bool:
    """Whether this page may read a saved run's set and weights folder again: the set bundled or inside
    data_roots() (an upload, None, is offered too: pressing Resume says that it is not kept), and no weights
    folder or one inside data_roots()."""
    ref, weights = meta.get("dataset_ref"), meta.get("models_dir")
    shared_set = ref is None or ref == "bundled" or (isinstance(ref, str) and shared_path(ref) is not None)
    return shared_set and (weights is None or (isinstance(weights, str) and shared_path(weights) is not None))
