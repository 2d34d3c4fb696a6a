"""The Compare page's views: starting a run (new or resumed) with its progress, the rows shown with earlier runs
overlaid, the results (table, charts, environment) and the paired comparison of two rows. The work is done by
components.compare.session (no streamlit); these functions draw it."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from components.compare import (
    HistoryStore,
    Request,
    accuracy_vs_latency,
    execute_run,
    int8_slower_notes,
    latency_distribution,
    memory_and_size,
    pair_key,
    pair_statements,
    plan_run,
    published_vs_measured,
    ranking_note,
    results_table,
    runtime_comparison,
    shown_rows,
    table_formats,
    throughput_by_batch,
    with_estimated_latency,
    with_estimated_memory,
)
from components.core import Refused
from components.datasets import DatasetError
from components.ui.shell.server_files import data_roots
from components.ui.views.compare_run import await_stop, run_started, show_run_notes, visible_runs, visitor
from components.ui.views.run import model_slot
from components.ui.widgets.chart import show_chart
from components.ui.widgets.format import literal

RESULTS, FAILURES = "compare_results", "compare_failures"
AFTER_RUN = "compare_after_run"  # what a run's pass said, shown once by the rerun that follows it
PAIRS = "compare_pairs"  # paired comparisons already worked out in this session, by pair_key
MAX_PAIRS = 8
MISSING = "n/a"  # the results table's missing numbers (random weights' accuracy); Streamlit would draw "None"
ENV_KEYS = ("cpu", "cpu_flags", "cores", "torch_threads", "device", "torch", "transformers", "timm", "onnxruntime",
            "executor", "hostname")


def open_history() -> HistoryStore | None:
    """The history store, or None when its setting is broken (the page still works)."""
    try:
        return HistoryStore()
    except Exception:  # noqa: BLE001 - a broken history setting must not break the page
        return None


def start_run(request: Request, resuming: tuple[int, Any, list[dict]] | None, history: HistoryStore | None,
              executor: Any) -> None:
    """Run the request (or resume a saved run) with a progress bar, keep its rows in the session and rerun the
    page (the Unfinished runs picker above was drawn before the run). A saved run that cannot be read again
    stops the page with one line. Over a visitor's limits nothing runs and nothing shown is lost: the refusal
    is one line (here, and returns; or above the results after the rerun) and the earlier results stay."""
    try:
        setup = plan_run(request, resuming, data_roots())
    except (DatasetError, KeyError) as exc:
        st.error(f"Run #{resuming[0] if resuming else None} cannot be resumed: {literal(exc)}",
                 icon=":material/warning:")
        st.stop()
    except Refused as exc:
        st.error(str(exc), icon=":material/block:")
        return
    earlier = {key: st.session_state.get(key) for key in (RESULTS, FAILURES, "compare_cancelled")}
    st.session_state[RESULTS], st.session_state[FAILURES] = list(setup.saved), {}
    st.session_state["compare_cancelled"] = True  # cleared when the run completes
    bar = st.progress(0.0, text="Starting…")
    done = execute_run(setup, history, executor, lambda fraction, text: bar.progress(fraction, text=text),
                       on_start=run_started, session=visitor(), on_result=st.session_state[RESULTS].append,
                       slot=lambda: model_slot("The comparison"))
    if done.refused:  # no row ran (the queue or the session's budget): what the page showed stays
        st.session_state.update(earlier)
    else:
        st.session_state[FAILURES] = done.failures
        st.session_state["compare_cancelled"] = False
    st.session_state[AFTER_RUN] = done.notes
    st.rerun()


def show_after_run() -> None:
    """What the last run's pass said (its time, an error, a warning), once, on the rerun that follows it."""
    show_run_notes(st.session_state.pop(AFTER_RUN, []))


def session_results(task: str) -> list[dict[str, Any]]:
    """This session's rows of ``task`` (a run belongs to its task)."""
    return [r for r in st.session_state.get(RESULTS) or [] if r["task"] == task]


def overlaid_rows(results: list[dict[str, Any]], task: str, overlay: list[int],
                  store: HistoryStore | None) -> list[dict[str, Any]]:
    """This session's rows and those of the overlaid earlier runs; a warning for each run that cannot be read."""
    shown, problems = shown_rows(results, task, overlay, store, st.session_state.get("compare_run_id"))
    for run_id, why in problems:
        st.warning(f"Run #{run_id} could not be loaded from the history: {literal(why)}")
    return shown


def show_stopped(results: list[dict[str, Any]], stopped: bool, waiting: bool, history: HistoryStore | None) -> None:
    """A run stopped before its end (waiting for it to be marked when it is still running), and each failed row."""
    if stopped:
        st.warning(f"Run stopped before the end (Cancel, or the page was changed during the run): "
                   f"{len(results)} model(s) finished and are shown below.")
        if waiting:
            await_stop(history, st.session_state["compare_run_id"])
    for reason in (st.session_state.get(FAILURES) or {}).values():
        st.error(literal(reason), icon=":material/warning:")


def history_runs(task: str) -> tuple[HistoryStore | None, list[dict[str, Any]]]:
    """The history store and the saved runs of ``task`` this visitor may see (a caption says when rows were
    skipped, or why the history cannot be read)."""
    try:
        store = HistoryStore()
        runs_saved = [r for r in visible_runs(store.list_runs()) if r["task"] == task]
        if store.skipped:
            st.caption(f"{store.skipped} damaged history row(s) skipped.")
    except Exception as exc:  # noqa: BLE001 - a broken history file must not break the page
        st.caption(f"History unavailable: {literal(exc)}")
        return None, []
    return store, runs_saved


def show_compare_results(shown: list[dict[str, Any]], estimates: Sequence[dict[str, Any]] = ()) -> None:
    """The results table (formatted here only: the downloads keep every digit), the charts two by two and the
    note when no ranking can be read; ``estimates`` (models that cannot run here) only as open markers on the
    latency and memory charts."""
    st.subheader("Results")
    table = results_table(shown)
    st.dataframe(table, hide_index=True, width="stretch", placeholder=MISSING,
                 column_config={c: st.column_config.NumberColumn(format=f) for c, f in table_formats(table).items()})
    figures = [accuracy_vs_latency(shown), with_estimated_latency(latency_distribution(shown), list(estimates)),
               with_estimated_memory(memory_and_size(shown), list(estimates)),
               throughput_by_batch(shown), published_vs_measured(shown)]
    figures = [f for f in figures if f is not None]
    for start in range(0, len(figures), 2):
        for column, figure in zip(st.columns(2), figures[start:start + 2]):
            with column:
                show_chart(figure)
    if ranking_note(shown):
        st.warning(ranking_note(shown), icon=":material/compare_arrows:")


def show_pair(shown: list[dict[str, Any]], names: list[str], first: str, second: str) -> tuple[int, int] | None:
    """The paired comparison of the rows named ``first`` and ``second``, in words; their indices (None when the
    same row is picked twice). Worked out once per pair of rows in this session, not on every rerun."""
    if first == second:
        st.caption("Pick two different rows to compare them item by item.")
        return None
    pair = names.index(first), names.index(second)
    for statement in cached_statements(shown[pair[0]], shown[pair[1]]):
        st.markdown(statement)
    return pair


def cached_statements(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """:func:`pair_statements` of two rows, kept in the session by :func:`pair_key` (the last MAX_PAIRS)."""
    pairs = st.session_state.setdefault(PAIRS, {})
    key = pair_key(a, b)
    if key not in pairs:
        with st.spinner("Comparing the two rows item by item…"):
            pairs[key] = pair_statements(a, b)
        for old in list(pairs)[:-MAX_PAIRS]:
            del pairs[old]
    return pairs[key]


def show_environment(shown: list[dict[str, Any]]) -> None:
    """The runtimes chart (full width), what the rows were measured on and the int8 notes."""
    runtimes_figure = runtime_comparison(shown)
    if runtimes_figure is not None:
        show_chart(runtimes_figure)
    env = shown[0].get("env") or {}
    st.caption("Measured on: " + ", ".join(f"{k} {v}" for k, v in env.items() if k in ENV_KEYS))
    for scheme in sorted({(r.get("env") or {}).get("int8") for r in shown} - {None}):
        st.caption(f"ONNX int8: {scheme}")
    for note in int8_slower_notes(shown):
        st.info(note, icon=":material/info:")
