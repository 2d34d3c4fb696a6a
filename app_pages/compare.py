"""Compare: benchmark models on a labelled set; chart accuracy against latency, memory and size."""
import streamlit as st

from components.compare import Request, best_two, dataset_ref, label, to_csv, to_json
from components.core import TASKS, limits
from components.datasets import Dataset, DatasetError, load_bundled, load_upload
from components.models import get_runtime, resolve_weights, runner_tasks, runtime_names
from components.ui import (
    availability_map,
    catalog_or_stop,
    compare_report_button,
    estimate_picker,
    executor_settings,
    history_runs,
    literal,
    models_dir,
    open_history,
    overlaid_rows,
    presenting,
    resume_request,
    server_path_set,
    session_results,
    setting,
    show_after_run,
    show_compare_results,
    show_environment,
    show_estimates,
    show_pair,
    show_stopped,
    start_run,
    stopping,
)


@st.cache_data(max_entries=2, show_spinner="Reading your evaluation set…")
def uploaded_set(task: str, name: str, data: bytes) -> Dataset:
    """Validate and decode an upload once, not on every rerun."""
    return load_upload(task, name, data)


st.title(":material/bar_chart: Compare models")
st.caption("Measure models on a labelled set: accuracy, latency distribution, memory, size, FLOPs and "
           "throughput — with how each figure was measured, and the environment stored with every run.")

task = setting("compare", "task").draw(
    st.selectbox, [name for name, spec in TASKS.items() if spec.comparable],
    format_func=lambda t: f"{t} (cost only: no labelled set)" if TASKS[t].cost_only else t)
evaluation = TASKS[task].evaluation
weights_dir = models_dir()
availability = availability_map(weights_dir or "")
candidates = [e for e in catalog_or_stop() if task in e.tasks and task in runner_tasks(e, "auto", weights_dir)]
weights_of = {e.id: resolve_weights(e, "auto", availability[e.id], task) for e in candidates}
names = {e.id: e.name + (" (random weights)" if weights_of[e.id] == "random" else "") for e in candidates}
defaults = [e.id for e in candidates if weights_of[e.id] == "real"][:3] or [e.id for e in candidates][:2]
MODELS, RUNTIMES, SOURCE = setting("compare", "models"), setting("compare", "runtimes"), setting("compare", "set")
st.session_state.setdefault(MODELS.session_key(task=task), defaults)
chosen_ids = MODELS.draw(st.multiselect, [e.id for e in candidates], format_func=names.get, context={"task": task})
st.session_state.setdefault(RUNTIMES.key, ["eager"])
chosen_runtimes = RUNTIMES.draw(st.multiselect, list(runtime_names()), format_func=lambda n: get_runtime(n).label)
estimates = estimate_picker(task, availability)  # models that cannot run here: labelled estimates, never rows

source = "bundled" if evaluation is None else SOURCE.name_of(SOURCE.draw(st.radio, SOURCE.options(), horizontal=True))
dataset, set_ref = None, "bundled"  # set_ref: how the history names the set, to resume a run (None: an upload)
try:
    if source == "bundled":
        dataset = load_bundled(task)
    elif source == "server":
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
    RUNS, WARMUP = setting("compare", "runs"), setting("compare", "warmup")
    most_runs = min(RUNS.codec.high, limits.MAX_TIMED_RUNS.value())  # the slider ends at the server's cap
    st.session_state.setdefault(RUNS.key, min(20, most_runs))
    st.session_state.setdefault(WARMUP.key, 3)
    if most_runs > RUNS.codec.low:
        runs = RUNS.draw(c1.slider, RUNS.codec.low, most_runs)
    else:  # a cap at or below the slider's start leaves nothing to choose (a run over it is refused in one line)
        runs = int(RUNS.codec.low)
        c1.caption(f"Timed runs per model: {runs} ({limits.MAX_TIMED_RUNS.env}={limits.MAX_TIMED_RUNS.value()} "
                   "on this server)")
    warmup = WARMUP.draw(c2.slider, 0, 10)
    st.caption("Latency: time.perf_counter around each call after the warm-up (CUDA synchronised), split into "
               "preprocess / forward / postprocess. Throughput: batches of 1, 4 and 16 where the model batches. "
               "Memory: peak resident memory of the process during the run (psutil, sampled every 10 ms). "
               "FLOPs: torch's FlopCounterMode on one input. Parameters: counted from the loaded network, or "
               "the catalog's figure where the engine is not torch (marked in the table). Peak RSS is the "
               "whole app process: it includes models loaded earlier and other sessions' work.")
    executor = executor_settings()

run_clicked = st.button("Run comparison", icon=":material/play_arrow:", type="primary",
                        disabled=not (chosen_ids and dataset is not None), key="cmp_run")
history = open_history()
stopped = not run_clicked and st.session_state.get("compare_cancelled")
waiting = stopped and stopping(history, st.session_state.get("compare_run_id"))  # before the picker looks
resuming = None if run_clicked else resume_request(history, task)
show_after_run()
if run_clicked or resuming:
    cancel_slot = st.empty()
    cancel_slot.button("Cancel", icon=":material/stop:", key="cmp_cancel",
                       help="Stops after the current step; finished models are kept.")
    request = Request(task, tuple(e for e in candidates if e.id in chosen_ids), tuple(chosen_runtimes or ["eager"]),
                      runs, warmup, weights_dir, dataset, set_ref)
    start_run(request, resuming, history, executor)  # returns only when refused: one line, the results stay
    cancel_slot.empty()

results = session_results(task)
show_stopped(results, stopped, waiting, history)

with st.sidebar:
    st.subheader("History")
    store, runs_saved = history_runs(task)
    overlay = st.multiselect(
        "Overlay earlier runs", [r["id"] for r in runs_saved], key=f"keep_cmp_overlay_{task}",
        format_func=lambda i: next(f"#{r['id']} {r['created_at'][:16]} · {', '.join(r['models'])}"
                                   for r in runs_saved if r["id"] == i))
    st.caption(f"Saved in {store.path}" if store else "")

shown = overlaid_rows(results, task, overlay, store)
if shown:
    show_compare_results(shown, estimates)
    pair, chosen_pair = best_two(shown), None
    if pair is not None:
        names = [label(r) for r in shown]
        left, right = st.columns(2)
        first = left.selectbox("Paired comparison on the same items: A", names, index=pair[0], key=f"cmp_pair_a_{task}")
        second = right.selectbox("and B (default: the best two)", names, index=pair[1], key=f"cmp_pair_b_{task}")
        chosen_pair = show_pair(shown, names, first, second)
    show_environment(shown)
    c1, c2, c3 = st.columns(3)
    c1.download_button("Download CSV", to_csv(shown), icon=":material/download:", file_name=f"compare-{task}.csv",
                       mime="text/csv", key="cmp_csv")
    c2.download_button("Download JSON", to_json(shown), icon=":material/download:", file_name=f"compare-{task}.json",
                       mime="application/json", key="cmp_json")
    with c3:
        compare_report_button(shown, task, dataset, chosen_pair)
elif not run_clicked:
    st.info("Pick models and a set, then press Run."
            + ("" if presenting() else " Earlier runs can be overlaid from the sidebar."))
show_estimates(estimates)
