"""Compare: benchmark models on a labelled set; chart accuracy against latency, memory and size."""
import sqlite3
import threading
import time

import streamlit as st

from components.compare import (
    BenchmarkConfig,
    ExecutorError,
    HistoryStore,
    RunPlan,
    accuracy_vs_latency,
    best_two,
    dataset_ref,
    done_keys,
    int8_slower_notes,
    label,
    latency_distribution,
    memory_and_size,
    paired_comparison,
    published_vs_measured,
    ranking_note,
    results_table,
    run_recorded,
    runtime_comparison,
    table_formats,
    throughput_by_batch,
    to_csv,
    to_json,
)
from components.core import TASKS, Refused, get_entry
from components.datasets import Dataset, DatasetError, load_bundled, load_dataset, load_upload
from components.models import get_runtime, resolve_weights, runner_tasks, runtime_names
from components.ui import (
    availability_map,
    await_stop,
    catalog_or_stop,
    check_limits,
    compare_report_button,
    data_roots,
    executor_settings,
    literal,
    model_slot,
    models_dir,
    over_time,
    over_time_note,
    resume_request,
    run_started,
    server_path_set,
    show_chart,
    show_run_notes,
    stopping,
    visible_runs,
    visitor,
)

RESULTS, FAILURES = "compare_results", "compare_failures"
AFTER_RUN = "compare_after_run"  # what a run's pass said, shown once by the rerun that follows it



@st.cache_data(max_entries=2, show_spinner="Reading your evaluation set…")
def uploaded_set(task: str, name: str, data: bytes) -> Dataset:
    """Validate and decode an upload once, not on every rerun."""
    return load_upload(task, name, data)


st.title(":material/bar_chart: Compare models")
st.caption("Measure models on a labelled set: accuracy, latency distribution, memory, size, FLOPs and "
           "throughput — with how each figure was measured, and the environment stored with every run.")

task = st.selectbox("Task", [name for name, spec in TASKS.items() if spec.comparable], key="keep_cmp_task",
                    format_func=lambda t: f"{t} (cost only: no labelled set)" if TASKS[t].cost_only else t)
evaluation = TASKS[task].evaluation
weights_dir = models_dir()
availability = availability_map(weights_dir or "")
candidates = [e for e in catalog_or_stop() if task in e.tasks and task in runner_tasks(e, "auto", weights_dir)]
weights_of = {e.id: resolve_weights(e, "auto", availability[e.id], task) for e in candidates}
names = {e.id: e.name + (" (random weights)" if weights_of[e.id] == "random" else "") for e in candidates}
defaults = [e.id for e in candidates if weights_of[e.id] == "real"][:3] or [e.id for e in candidates][:2]
st.session_state.setdefault(f"keep_cmp_models_{task}", defaults)
chosen_ids = st.multiselect("Models", [e.id for e in candidates], format_func=names.get,
                            key=f"keep_cmp_models_{task}",
                            help="(random weights) = no weights here: the architecture is built with random weights "
                                 "to measure its cost (latency, memory, params, FLOPs); accuracy is n/a.")
st.session_state.setdefault("keep_cmp_runtimes", ["eager"])
chosen_runtimes = st.multiselect(
    "Runtimes", list(runtime_names()), key="keep_cmp_runtimes", format_func=lambda n: get_runtime(n).label,
    help="Each (model, runtime) is a row. ONNX Runtime rows export the model once (cached on disk) and "
         "report their speed-up over eager and their agreement with eager on the same samples; int8 is "
         "static (calibrated on the bundled photos) for image models and dynamic for text encoders.")

ON_SERVER = "A file or folder on this server"
source = "Bundled" if evaluation is None else st.radio(
    "Evaluation set", ["Bundled", "Upload my own", ON_SERVER], horizontal=True, key="keep_cmp_source")
dataset, set_ref = None, "bundled"  # set_ref: how the history names the set, to resume a run (None: an upload)
try:
    if source == "Bundled":
        dataset = load_bundled(task)
    elif source == ON_SERVER:
        dataset = server_path_set(task)
        set_ref = dataset_ref(st.session_state["keep_cmp_path"].strip()) if dataset is not None else None
    else:
        set_ref = None
        upload = st.file_uploader(f"Your set: {evaluation.upload}", key="cmp_upload")
        if upload is not None:
            dataset = uploaded_set(task, upload.name, upload.getvalue())
except DatasetError as exc:
    st.error(literal(exc), icon=":material/warning:")
if dataset is not None:
    kind = "labelled samples" if dataset.labelled else "unlabelled samples (latency, memory, FLOPs only)"
    st.caption(f"{len(dataset)} {kind} from {literal(dataset.source)}.")

with st.expander("Measurement settings"):
    c1, c2 = st.columns(2)
    st.session_state.setdefault("keep_cmp_runs", 20)
    st.session_state.setdefault("keep_cmp_warmup", 3)
    runs = c1.slider("Timed runs per model", 3, 100, key="keep_cmp_runs")
    warmup = c2.slider("Warm-up runs", 0, 10, key="keep_cmp_warmup")
    st.caption("Latency: time.perf_counter around each call after the warm-up (CUDA synchronised), split into "
               "preprocess / forward / postprocess. Throughput: batches of 1, 4 and 16 where the model batches. "
               "Memory: peak resident memory of the process during the run (psutil, sampled every 10 ms). "
               "FLOPs: torch's FlopCounterMode on one input. Parameters: counted from the loaded network, or "
               "the catalog's figure where the engine is not torch (marked in the table). Peak RSS is the "
               "whole app process: it includes models loaded earlier and other sessions' work.")
    executor = executor_settings()

run_clicked = st.button("Run comparison", icon=":material/play_arrow:", type="primary",
                        disabled=not (chosen_ids and dataset is not None), key="cmp_run")
try:
    history = HistoryStore()
except Exception:  # noqa: BLE001 - a broken history setting must not break the page
    history = None
stopped = not run_clicked and st.session_state.get("compare_cancelled")
waiting = stopped and stopping(history, st.session_state.get("compare_run_id"))  # before the picker looks
resuming = None if run_clicked else resume_request(history, task)
show_run_notes(st.session_state.pop(AFTER_RUN, []))
if run_clicked or resuming:
    cancel_slot = st.empty()
    cancel_slot.button("Cancel", icon=":material/stop:", key="cmp_cancel",
                       help="Stops after the current step; finished models are kept.")
    run_id, saved = None, []
    try:
        if resuming:
            run_id, plan, saved = resuming
            run_entries, run_set = ([get_entry(m) for m in plan.model_ids],
                                     load_dataset(plan.task, plan.dataset_ref, roots=data_roots()))
        else:
            run_entries = [e for e in candidates if e.id in chosen_ids]
            plan = RunPlan(task, tuple(e.id for e in run_entries), tuple(chosen_runtimes or ["eager"]),
                           BenchmarkConfig(runs=runs, warmup=warmup, models_dir=weights_dir), set_ref)
            run_set = dataset
    except (DatasetError, KeyError) as exc:
        st.error(f"Run #{run_id} cannot be resumed: {literal(exc)}", icon=":material/warning:")
        st.stop()
    check_limits(plan, run_set)  # over a visitor's limits: one line (app.py), nothing started
    st.session_state[RESULTS], st.session_state[FAILURES] = list(saved), {}
    st.session_state["compare_cancelled"] = True  # cleared when the run completes
    bar = st.progress(0.0, text="Starting…")
    started, too_long = time.perf_counter(), threading.Event()

    def progress(fraction: float, message: str) -> None:
        if over_time(started):
            too_long.set()  # the run stops after its current step, resumable
        elapsed = time.perf_counter() - started
        eta = f" · about {elapsed * (1 - fraction) / fraction:.0f} s left" if fraction > 0.02 else ""
        bar.progress(min(fraction, 1.0), text=f"{message}{eta}")

    notes = []
    try:
        with model_slot("The comparison"):
            run_id, outcome = run_recorded(
                history, plan, run_entries, run_set, run_id=run_id, skip=done_keys(saved), executor=executor,
                progress=progress, cancel=too_long, on_start=run_started, session=visitor(),
                on_result=lambda result: st.session_state[RESULTS].append(result.to_dict()))
        st.session_state[FAILURES] = outcome.failures
        if too_long.is_set() and outcome.cancelled:
            notes.append(("warning", over_time_note()))
    except (ExecutorError, Refused) as exc:
        notes.append(("error", str(exc)))
    st.session_state["compare_cancelled"] = False
    if run_id is None and st.session_state[RESULTS]:
        notes.append(("warning", "The results are shown but could not be saved to the history "
                                 f"({history.path if history else 'no history file'})."))
    st.session_state[AFTER_RUN] = [("done", f"Done in {time.perf_counter() - started:.0f} s"), *notes]
    st.rerun()  # the Unfinished runs picker above was drawn before the run: redraw it from the history

results = [r for r in st.session_state.get(RESULTS) or [] if r["task"] == task]  # a run belongs to its task
if stopped:
    st.warning(f"Run stopped before the end (Cancel, or the page was changed during the run): "
               f"{len(results)} model(s) finished and are shown below.")
    if waiting:
        await_stop(history, st.session_state["compare_run_id"])
for reason in (st.session_state.get(FAILURES) or {}).values():
    st.error(literal(reason), icon=":material/warning:")

with st.sidebar:
    st.subheader("History")
    try:
        store = HistoryStore()
        runs_saved = [r for r in visible_runs(store.list_runs()) if r["task"] == task]
        if store.skipped:
            st.caption(f"{store.skipped} damaged history row(s) skipped.")
    except Exception as exc:  # noqa: BLE001 - a broken history file must not break the page
        st.caption(f"History unavailable: {literal(exc)}")
        runs_saved, store = [], None
    overlay = st.multiselect(
        "Overlay earlier runs", [r["id"] for r in runs_saved], key=f"keep_cmp_overlay_{task}",
        format_func=lambda i: next(f"#{r['id']} {r['created_at'][:16]} · {', '.join(r['models'])}"
                                   for r in runs_saved if r["id"] == i))
    st.caption(f"Saved in {store.path}" if store else "")

shown = [dict(r, task=r.get("task", task)) for r in results]
for run_id in overlay:
    if run_id == st.session_state.get("compare_run_id") and results:
        continue
    try:
        shown += [dict(r, run_label=f"run #{run_id}") for r in store.load_run(run_id)["results"]
                  if r.get("task", task) == task]
    except (KeyError, OSError, sqlite3.Error) as exc:
        st.warning(f"Run #{run_id} could not be loaded from the history: {literal(exc)}")

if shown:
    st.subheader("Results")
    table = results_table(shown)  # formatted here only: the downloads keep every digit
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format=f) for c, f in table_formats(table).items()})
    figures = [accuracy_vs_latency(shown), latency_distribution(shown), memory_and_size(shown),
               throughput_by_batch(shown), published_vs_measured(shown)]
    figures = [f for f in figures if f is not None]
    for start in range(0, len(figures), 2):
        for column, figure in zip(st.columns(2), figures[start:start + 2]):
            with column:
                show_chart(figure)
    if ranking_note(shown):
        st.warning(ranking_note(shown), icon=":material/compare_arrows:")
    pair = best_two(shown)
    if pair is not None:
        names = [label(r) for r in shown]
        left, right = st.columns(2)
        first = left.selectbox("Paired comparison on the same items: A", names, index=pair[0], key=f"cmp_pair_a_{task}")
        second = right.selectbox("and B (default: the best two)", names, index=pair[1], key=f"cmp_pair_b_{task}")
        if first == second:
            st.caption("Pick two different rows to compare them item by item.")
        else:
            for statement in paired_comparison(shown[names.index(first)], shown[names.index(second)])["statements"]:
                st.markdown(statement)
    runtimes_figure = runtime_comparison(shown)  # three panels: the full width
    if runtimes_figure is not None:
        show_chart(runtimes_figure)
    env = shown[0].get("env") or {}
    st.caption("Measured on: " + ", ".join(f"{k} {v}" for k, v in env.items() if k in
                                            ("cpu", "cpu_flags", "cores", "torch_threads", "device", "torch",
                                             "transformers", "timm", "onnxruntime", "executor", "hostname")))
    for scheme in sorted({(r.get("env") or {}).get("int8") for r in shown} - {None}):
        st.caption(f"ONNX int8: {scheme}")
    for note in int8_slower_notes(shown):
        st.info(note, icon=":material/info:")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Download CSV", to_csv(shown), icon=":material/download:", file_name=f"compare-{task}.csv",
                       mime="text/csv", key="cmp_csv")
    c2.download_button("Download JSON", to_json(shown), icon=":material/download:", file_name=f"compare-{task}.json",
                       mime="application/json", key="cmp_json")
    with c3:
        compare_report_button(shown, task, dataset)
elif not run_clicked:
    st.info("Pick models and a set, then press Run. Earlier runs can be overlaid from the sidebar.")
