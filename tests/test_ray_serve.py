"""Playground runs on a real local Ray Serve (Ray on 127.0.0.1, 2 CPUs, Serve without its HTTP proxy), no mocks:
the same answers as the model in this process, alone and in batches, requests with other options never share a
runner call, nothing listens beyond the loopback, and a cluster that does not answer is one line."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from components.compare.executors import ray_executor
from components.core import get_entry
from components.datasets import load_bundled
from components.models import CannotRun, create_runner
from components.serve import SERVE_ADDRESS_ENV, remote_run

ROOT = Path(__file__).resolve().parents[1]
TASK = "image-classification"
LOOPBACK = ("127.0.0.1", "::ffff:127.0.0.1", "::1")


@pytest.fixture(scope="module")
def served():
    """A local Ray started on the loopback as the app starts one (2 CPUs), MODEL_EXPLORER_SERVE_ADDRESS=local."""
    import ray
    from ray import serve

    with ray_executor._loopback_only():
        ray.init(address="local", num_cpus=2, runtime_env=ray_executor.runtime_env(""), include_dashboard=False,
                 logging_level=logging.ERROR, log_to_driver=False)
    patch = pytest.MonkeyPatch()
    patch.setenv(SERVE_ADDRESS_ENV, "local")
    yield
    patch.undo()
    serve.shutdown()
    ray.shutdown()


def same_answer(served_output: list[dict], local_output: list[dict]) -> None:
    assert [c["index"] for c in served_output] == [c["index"] for c in local_output]
    assert all(abs(a["score"] - b["score"]) <= 1e-4 for a, b in zip(served_output, local_output))


@pytest.mark.slow
def test_served_lite0_answers_as_in_process_alone_and_in_batches(served):
    entry = get_entry("efficientnet_lite0")
    photos = list(load_bundled(TASK).inputs)
    local = create_runner(entry, TASK, "real", runtime="eager")
    expected = {(i, k): local.run(photo, top_k=k).output for i, photo in enumerate(photos) for k in (3, 5)}

    for i, photo in enumerate(photos):  # one at a time: batches of one, as in-process
        result = remote_run(entry, TASK, photo, "eager", {"top_k": 5})
        assert result.batch_size == 1 and result.model_id == entry.id and result.runtime == "eager"
        same_answer(result.output, expected[i, 5])

    requests = [(i % len(photos), 3 if i % 2 else 5) for i in range(24)]  # two option groups, arriving together
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda r: remote_run(entry, TASK, photos[r[0]], "eager", {"top_k": r[1]}), requests))
    for (i, k), result in zip(requests, results):
        assert len(result.output) == k  # never answered with another request's options
        same_answer(result.output, expected[i, k])
    assert max(r.batch_size for r in results) > 1, [r.batch_size for r in results]
    batched = next(r for r in results if r.batch_size > 1)
    assert batched.latency_ms > 0 and set(batched.stages_ms) == {"preprocess", "forward", "postprocess"}

    me = psutil.Process()
    ours = {p.pid for p in me.children(recursive=True)} | {me.pid}
    listening = {c.laddr.ip for c in psutil.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in ours}
    assert listening and listening <= set(LOOPBACK), listening  # Ray and Serve (no HTTP proxy): loopback only


@pytest.mark.slow
def test_a_caller_whose_thread_has_an_event_loop_is_answered(served):
    """Bug found by CI: Playwright's sync API (the browser tests) leaves an asyncio loop set in the test thread, and
    Serve refused the blocking call ('Sync methods should not be called from within an asyncio event loop')."""
    entry, photo = get_entry("efficientnet_lite0"), load_bundled(TASK).inputs[0]

    async def from_a_loop():
        return remote_run(entry, TASK, photo, "eager", {"top_k": 2})

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: the browser tests' loop may be set in this one
        result = pool.submit(asyncio.run, from_a_loop()).result()
    same_answer(result.output, create_runner(entry, TASK, "real", runtime="eager").run(photo, top_k=2).output)


@pytest.mark.slow
def test_the_playground_run_goes_to_serve_and_loads_nothing_here(served):
    """Vision's run_models with MODEL_EXPLORER_SERVE_ADDRESS set: the card's answer comes from the deployment (the
    in-process answer), and this process loads no model for it."""
    from ray import serve

    from components.models import get_manager
    from components.ui.views.run import run_models

    entry = get_entry("efficientnet_lite2")
    photo = load_bundled(TASK).inputs[0]
    manager = get_manager()
    for key, _ in manager.loaded():  # earlier tests in this process may have loaded Lite2 here
        if getattr(key, "entry_id", None) == entry.id:
            manager.evict(key)
    try:
        card = run_models([entry], TASK, photo, runtime="eager")[0]
    finally:
        serve.delete("model-explorer-efficientnet_lite2-eager-image-classification")  # its CPU, for the next tests
    assert card.error == "" and card.result is not None
    assert not manager.is_loaded(entry.id, "eager")  # the model ran on Serve only
    same_answer(card.result.output, create_runner(entry, TASK, "real", runtime="eager").run(photo).output)


@pytest.mark.slow
def test_a_replica_the_cluster_has_no_cpu_for_is_one_line_not_a_hang(served, monkeypatch):
    """The module's Ray has 2 CPUs and Lite0's replica holds one or two: a replica asking for 3 is never placed."""
    from components.serve import remote as serving

    monkeypatch.setattr(serving, "torch_threads", lambda: 3)
    monkeypatch.setattr(serving, "DEPLOY_WAIT_S", 5.0)
    with pytest.raises(CannotRun) as failed:
        remote_run(get_entry("efficientnet_lite2"), TASK, load_bundled(TASK).inputs[0], "onnx", {})
    assert "no Ray Serve replica started within 5 s" in str(failed.value) and "\n" not in str(failed.value)


@pytest.mark.slow
def test_a_model_the_replica_cannot_load_is_one_line(served):
    from ray import serve

    try:
        with pytest.raises(CannotRun) as failed:
            remote_run(get_entry("efficientnet_lite0"), TASK, load_bundled(TASK).inputs[0], "no-such-runtime", {})
    finally:
        serve.delete("model-explorer-efficientnet_lite0-no-such-runtime-image-classification")
    assert "no-such-runtime" in str(failed.value) and "\n" not in str(failed.value)


UNREACHABLE = """
from components.core import get_entry
from components.models import CannotRun
from components.serve import remote_run
try:
    remote_run(get_entry("efficientnet_lite0"), "image-classification", None)
except CannotRun as exc:
    print(exc)
"""


def test_a_serve_address_that_does_not_answer_is_one_line():
    with socket.socket() as probe:  # a free loopback port, closed again: nothing answers there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run([sys.executable, "-c", UNREACHABLE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), SERVE_ADDRESS_ENV: f"127.0.0.1:{port}"})
    assert done.returncode == 0, done.stderr[-3000:]
    line = done.stdout.strip()
    assert "\n" not in line and f"127.0.0.1:{port}" in line and "Traceback" not in done.stderr, (line, done.stderr)
