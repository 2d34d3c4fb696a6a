"""The Ray executor on a real local Ray cluster (2 CPUs), no mocks: same results as the local executor,
a killed worker fails only its row, Cancel stops the cluster's work, sharded accuracy equals unsharded,
a large folder streams, and a crashed run resumes from the history."""
from __future__ import annotations

import json
import logging
import math
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

import components.compare.executors.ray_executor as ray_executor
from components.compare.benchmark import BenchmarkConfig, compare
from components.compare.executors.base import ExecutorError
from components.compare.executors.ray_executor import RayExecutor
from components.compare.runs import CANCELLED, RunPlan, done_keys, load_resumable, run_recorded
from components.compare.store import FINISHED, HistoryStore
from components.core.catalog import get_entry
from components.datasets import load_bundled, load_dataset
from components.datasets.containers import ImageFiles
from components.datasets.folders import FileBlobs

FAST = BenchmarkConfig(runs=3, warmup=1, batch_sizes=(1,))
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


def bench_processes(prefix: str = "ray::bench ") -> list[psutil.Process]:
    """Ray workers running a row task: Ray titles a worker process after its task's name."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if " ".join(process.info["cmdline"] or []).startswith(prefix):
            found.append(process)
    return found


def without_volatile(row: dict) -> dict:
    """A result's fields that do not depend on timing or on where it ran."""
    return {k: v for k, v in row.items() if k in ("model_id", "task", "weights", "dataset", "n_samples", "metrics",
                                                  "metrics_note", "params", "params_source", "flops", "runtime")}


@pytest.mark.slow
def test_lite0_on_ray_matches_the_local_executor(cluster):
    dataset = load_bundled("image-classification")
    entries = [get_entry("efficientnet_lite0")]
    local = compare(entries, dataset, FAST)
    seen: list[float] = []
    remote = compare(entries, dataset, FAST, progress=lambda f, m: seen.append(f), executor=RayExecutor())
    assert not remote.failures and not remote.cancelled
    (here,), (there,) = [r.to_dict() for r in local.results], [r.to_dict() for r in remote.results]
    assert set(here) == set(there)  # the same schema
    assert without_volatile(there) == without_volatile(here) and there["metrics"]["top1"] > 0.5
    assert there["env"]["executor"] == "ray" and here["env"]["executor"] == "local"
    assert there["env"]["ray_node_id"] == cluster.get_runtime_context().get_node_id()
    assert there["env"]["hostname"] and there["env"]["worker_pid"] != os.getpid()
    assert there["latency_ms"]["p50"] > 0 and len(there["latency_samples_ms"]) == FAST.runs
    assert seen == sorted(seen) and seen[-1] == 1.0


@pytest.mark.slow
def test_a_killed_worker_fails_only_its_row(cluster):
    """The victim row's worker is killed from here by pid (SIGKILL) while it runs; the other row is kept."""
    killed: list[int] = []

    def kill_victim() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for process in bench_processes("ray::bench efficientnet_lite1"):
                os.kill(process.pid, signal.SIGKILL)
                killed.append(process.pid)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_victim, daemon=True)
    killer.start()
    long = BenchmarkConfig(runs=200, warmup=1, batch_sizes=(1,))
    outcome = compare([get_entry("efficientnet_lite0"), get_entry("efficientnet_lite1")],
                      load_bundled("image-classification"), long, executor=RayExecutor())
    killer.join()
    assert killed, "the victim's worker was never seen"
    assert [r.model_id for r in outcome.results] == ["efficientnet_lite0"] and not outcome.cancelled
    assert outcome.results[0].n_samples == 9
    reason = outcome.failures["efficientnet_lite1"]
    assert "worker died" in reason and "\n" not in reason


@pytest.mark.slow
def test_cancel_stops_the_work_on_the_cluster(cluster):
    cancel = threading.Event()
    set_at: list[float] = []

    def cancel_once_both_run() -> None:
        deadline = time.monotonic() + 120
        while len(bench_processes()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # both are measuring now
        set_at.append(time.monotonic())
        cancel.set()

    threading.Thread(target=cancel_once_both_run, daemon=True).start()
    endless = BenchmarkConfig(runs=100_000, warmup=1, batch_sizes=(1,))  # hours if not cancelled
    outcome = compare([get_entry("efficientnet_lite0"), get_entry("efficientnet_lite1")],
                      load_bundled("image-classification"), endless, cancel=cancel, executor=RayExecutor())
    stopped_after = time.monotonic() - set_at[0]
    assert outcome.cancelled and outcome.results == [] and outcome.failures == {}
    assert stopped_after < 15, f"the comparison returned {stopped_after:.1f} s after Cancel"
    deadline = time.monotonic() + 10
    while bench_processes() and time.monotonic() < deadline:  # cancelled workers are killed
        time.sleep(0.1)
    assert bench_processes() == []


@pytest.mark.slow
@pytest.mark.parametrize("task, model_id, metric", [
    ("language-identification", "fasttext_lid176", "macro_f1"),  # 104 lines, 7 shards
    ("sentence-similarity", "all_minilm_l6_v2", "spearman"),  # 38 pairs, 3 shards: a rank metric
])
def test_sharded_accuracy_equals_unsharded(cluster, task, model_id, metric):
    dataset = load_bundled(task)
    entries = [get_entry(model_id)]
    local = compare(entries, dataset, FAST)
    sharded = compare(entries, dataset, FAST, executor=RayExecutor(shard_size=16))
    (here,), (there,) = local.results, sharded.results
    assert there.metrics == here.metrics and there.metrics[metric] is not None
    assert there.item_scores == here.item_scores and there.metrics_ci == here.metrics_ci  # intervals too
    assert there.n_samples == here.n_samples == len(dataset)
    assert there.env["accuracy_shards"] == math.ceil(len(dataset) / 16)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """1000 small PNGs in two ImageNet class folders (crops of two scikit-image photos)."""
    import numpy as np
    from PIL import Image
    from skimage import data

    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for folder, photo in (("tabby cat", data.chelsea()), ("espresso", data.coffee())):
        (root / folder).mkdir()
        height, width = photo.shape[:2]
        for i in range(500):
            top, left = rng.integers(0, height // 4), rng.integers(0, width // 4)
            crop = photo[top : top + 3 * height // 4, left : left + 3 * width // 4]
            Image.fromarray(crop).resize((64, 48)).save(root / folder / f"{i:04d}.png")
    return root


@pytest.mark.slow
def test_a_large_folder_streams_in_shards(cluster, photo_folder):
    dataset = load_dataset("image-classification", photo_folder)
    assert len(dataset) == 1000 and dataset.source == photo_folder.name
    # the set holds paths, not pixels: 1000 decoded 64x48 RGB images alone would be 9 MB
    assert isinstance(dataset.inputs, ImageFiles) and isinstance(dataset.inputs._blobs, FileBlobs)
    assert len(pickle.dumps(dataset)) < 200_000
    assert dataset.inputs[0] is not dataset.inputs[0]  # decoded afresh on each access, never kept
    entries = [get_entry("efficientnet_lite0")]
    (whole,) = compare(entries, dataset, FAST, executor=RayExecutor(shard_size=256)).results
    assert whole.env["accuracy_shards"] == 4 and whole.n_samples == 1000 and whole.metrics["top5"] > 0.5
    # images too: shards score exactly as one pass does (on 64 of them, to keep the test short)
    part = dataset.window(0, 64)
    (sharded,) = compare(entries, part, FAST, executor=RayExecutor(shard_size=16)).results
    (local,) = compare(entries, part, FAST).results
    assert sharded.env["accuracy_shards"] == 4 and sharded.metrics == local.metrics


def test_a_crashed_run_resumes_only_its_missing_rows(cluster, tmp_path):
    store = HistoryStore(tmp_path / "history.sqlite")
    dataset = load_bundled("sentiment-analysis")
    plan = RunPlan("sentiment-analysis", ("vader", "distilbert_sst2"), ("eager",), FAST, "bundled")
    entries = [get_entry(m) for m in plan.model_ids]

    def crash_on_second_row(fraction: float, message: str) -> None:
        if message.startswith("DistilBERT"):
            raise KeyboardInterrupt  # Ctrl-C mid-run

    with pytest.raises(KeyboardInterrupt):
        run_recorded(store, plan, entries, dataset, progress=crash_on_second_row)
    (crashed,) = store.unfinished_runs("sentiment-analysis")
    assert crashed["meta"]["status"] == CANCELLED and crashed["n_results"] == 1

    resumed_plan, saved = load_resumable(store, crashed["id"])
    assert resumed_plan == plan and [r["model_id"] for r in saved] == ["vader"]
    measured: list[str] = []
    run_id, outcome = run_recorded(store, resumed_plan, entries, dataset, run_id=crashed["id"],
                                   skip=done_keys(saved), executor=RayExecutor(),
                                   on_result=lambda r: measured.append(r.model_id))
    assert run_id == crashed["id"] and measured == ["distilbert_sst2"] and not outcome.failures
    run = store.load_run(run_id)
    assert run["meta"]["status"] == FINISHED and [r["model_id"] for r in run["results"]] == ["vader", "distilbert_sst2"]
    assert run["results"][0] == saved[0]  # the saved row was kept, not measured again
    assert store.unfinished_runs() == []


def test_a_row_larger_than_every_node_is_refused(cluster, monkeypatch):
    """Ray would queue a task asking for more CPUs than any node has forever: one line instead."""
    monkeypatch.setenv("MODEL_EXPLORER_TORCH_THREADS", "3")
    with pytest.raises(ExecutorError, match="reserves 3 CPUs .* the largest node of the Ray cluster has 2"):
        compare([get_entry("vader")], load_bundled("sentiment-analysis"), FAST, executor=RayExecutor())


def test_no_cluster_switch_under_a_running_comparison(cluster, monkeypatch):
    monkeypatch.setattr(ray_executor, "_joined", "")  # as if this process had started the local cluster
    with ray_executor.joined(""):
        with pytest.raises(ExecutorError, match="running 1 comparison"):
            ray_executor.connect("127.0.0.1:1")
    assert ray_executor._active == 0 and cluster.is_initialized()


@pytest.mark.slow
def test_a_lost_connection_is_one_line(cluster):
    """The connection shut down mid-run: an ExecutorError, not a traceback (then the cluster is started again)."""
    def shut_down(fraction: float, message: str) -> None:
        cluster.shutdown()

    try:
        with pytest.raises(ExecutorError, match="Ray stopped the comparison"):
            compare([get_entry("vader")], load_bundled("sentiment-analysis"), FAST, shut_down,
                    executor=RayExecutor())
    finally:
        cluster.shutdown()
        cluster.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR)


def test_ray_is_imported_only_when_chosen():
    """The app, the engine and the CLI import Ray only when a run uses it (import costs ~1 s)."""
    code = ("import sys, components.compare.benchmark, components.compare.cli, components.compare.runs, "
            "components.ui.views.compare_run, components.compare.executors.ray_executor; print('ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


LISTENING = """
import json, psutil
from components.compare.executors.ray_executor import connect
connect("")  # the local Ray the app starts
me = psutil.Process()
ours = {p.pid for p in me.children(recursive=True)} | {me.pid}
print(json.dumps(sorted({c.laddr.ip for c in psutil.net_connections(kind="inet")
                         if c.status == psutil.CONN_LISTEN and c.pid in ours})))
import ray; ray.shutdown()
"""


def test_a_local_ray_started_by_the_app_listens_on_the_loopback_only():
    done = subprocess.run([sys.executable, "-c", LISTENING], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    addresses = json.loads(done.stdout.strip().splitlines()[-1])
    assert addresses and all(a in ("127.0.0.1", "::ffff:127.0.0.1", "::1") for a in addresses), addresses
