"""Playground inference on Ray Serve: with MODEL_EXPLORER_SERVE_ADDRESS set, a model run goes to a Serve deployment
per (model id, runtime, task), on the Ray cluster at that address (``local``: a Ray this process starts on
127.0.0.1, as Compare's local Ray).

Each deployment's replica loads its model once with :func:`create_runner` (the node's own caches; a model missing
there is refused unless that node allows downloads) and answers single requests in batches (``@serve.batch``, sized
like the in-process micro-batches: MODEL_EXPLORER_BATCH_MAX / MODEL_EXPLORER_BATCH_WINDOW_MS). Within a batch,
requests are grouped by their options: one runner call per group, so requests with different options never share a
call while one deployment (one copy of the model) serves every option value. Deployments are found by name, so app
replicas joined to the same cluster share them; the first that needs one deploys it. Serve runs without its HTTP
proxy (handles only). Ray is imported on first use only.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from components.compare import ExecutorError, ray_connect
from components.core import CatalogEntry, InputError, get_task, limits, torch_threads
from components.models import CannotRun, RunResult, batching_mode, micro_batcher, split_result

SERVE_ADDRESS_ENV = "MODEL_EXPLORER_SERVE_ADDRESS"
LOCAL = "local"  # the address value that starts a local Ray on the loopback
APP_PREFIX = "model-explorer"
DEPLOY_WAIT_S = 120.0  # a new deployment must be running this soon (loading a large model included)
DEPLOY_POLL_S = 0.5

log = logging.getLogger(__name__)
_lock = threading.Lock()
_handles: dict[tuple[str, str], Any] = {}  # (Ray session, app name) -> its handle
_deploying: dict[tuple[str, str], threading.Lock] = {}  # one deployment at a time per application
_started: set[str] = set()  # Ray sessions (node id, job id) this process has started Serve in


def serve_address() -> str | None:
    """The Ray address playground runs go to (MODEL_EXPLORER_SERVE_ADDRESS), or None: they run in this process."""
    return os.environ.get(SERVE_ADDRESS_ENV, "").strip() or None


def app_name(model_id: str, runtime: str, task: str) -> str:
    """The Serve application of one (model id, runtime, task): the same name in every app replica."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{APP_PREFIX}-{model_id}-{runtime}-{task}")


def remote_run(entry: CatalogEntry, task: str, inputs: Any, runtime: str = "eager",
               options: dict[str, Any] | None = None) -> RunResult:
    """``entry``'s answer to ``inputs`` from its Serve deployment (blocking). CannotRun (one line) when Serve is
    unreachable or the replica cannot load the model; InputError for an input the model refuses.

    Serve refuses a blocking call from a thread where an asyncio loop counts as running (a caller's own loop, or one
    that Playwright's sync API leaves set while it is suspended): there the call is made from a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _remote_run(entry, task, inputs, runtime, options)
    with ThreadPoolExecutor(1, thread_name_prefix="serve-call") as pool:
        return pool.submit(_remote_run, entry, task, inputs, runtime, options).result()


def _remote_run(entry: CatalogEntry, task: str, inputs: Any, runtime: str,
                options: dict[str, Any] | None) -> RunResult:
    key, handle = _handle(entry, task, runtime)
    try:
        answer = handle.answer.remote(inputs, options or {}).result(timeout_s=limits.QUEUE_WAIT_S.value())
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds: the replica died, a timeout, a lost cluster
        with _lock:
            _handles.pop(key, None)  # the application may be gone (deleted, redeployed): look it up again next time
        raise CannotRun(f"{entry.name}: Ray Serve did not answer ({_line(exc)})") from None
    if isinstance(answer, Exception):
        raise answer
    return answer


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def _handle(entry: CatalogEntry, task: str, runtime: str) -> tuple[tuple[str, str], Any]:
    """(its cache key, the handle of the deployment for (entry, runtime, task)), deployed here on first use by any
    app replica; a deployment under way holds back only the runs of its own model."""
    address = serve_address()
    if address is None:
        raise CannotRun(f"{SERVE_ADDRESS_ENV} is not set: this server runs its models itself")
    name = app_name(entry.id, runtime, task)
    try:
        with _lock:
            job = _joined(address)
            key = (job, name)
            found = _handles.get(key)
            deploying = _deploying.setdefault(key, threading.Lock())
        if found is not None:
            return key, found
        with deploying:
            if key not in _handles:
                _handles[key] = _deployed(name, entry, task, runtime)
            return key, _handles[key]
    except CannotRun:
        raise
    except Exception as exc:  # noqa: BLE001 - Serve failing to start or to deploy
        raise CannotRun(f"{entry.name}: Ray Serve at {address} is not usable ({_line(exc)})") from None


def _joined(address: str) -> str:
    """Join the cluster (Compare's connection: one per process), start Serve there once; the Ray session's key."""
    import ray
    from ray import serve

    try:
        ray_connect("" if address == LOCAL else address)
    except ExecutorError as exc:
        raise CannotRun(f"Ray Serve ({SERVE_ADDRESS_ENV}): {exc}") from None
    context = ray.get_runtime_context()
    job = f"{context.get_node_id()} {context.get_job_id()}"  # a new cluster has a new node id
    if job not in _started:
        serve.start(proxy_location="Disabled")  # handles only: no HTTP / gRPC ingress port
        _started.add(job)
    return job


def _deployed(name: str, entry: CatalogEntry, task: str, runtime: str) -> Any:
    """The running application ``name`` (deployed by this or another app replica), else deployed now."""
    from ray import serve
    from ray.serve.exceptions import RayServeException

    try:
        return serve.get_app_handle(name)
    except RayServeException:  # not deployed yet
        pass
    cpus = torch_threads()
    replica = _deployment().options(ray_actor_options={"num_cpus": cpus})
    local = serve_address() == LOCAL
    # serve.run waits for the replica without end (a cluster with no free CPU never places it): deploy, then wait
    # here with a deadline (serve._run is serve.run without that wait; ray is pinned)
    handle = serve._run(replica.bind(entry, task, runtime, local), _blocking=False, name=name, route_prefix=None)
    _wait_running(name, entry, cpus)
    return handle


def _wait_running(name: str, entry: CatalogEntry, cpus: int) -> None:
    """Return once application ``name`` runs; CannotRun (one line) when it failed, or did not start within
    :data:`DEPLOY_WAIT_S` (then it is deleted, so that it takes no CPU later)."""
    from ray import serve

    deadline = time.monotonic() + DEPLOY_WAIT_S
    while True:
        app = serve.status().applications.get(name)
        state = str(app.status.value if hasattr(app.status, "value") else app.status) if app else "NOT_STARTED"
        if state == "RUNNING":
            return
        if state in ("DEPLOY_FAILED", "UNHEALTHY"):
            serve.delete(name, _blocking=False)
            message = (app.message or state).strip().splitlines()[0][:160] if app else state
            raise CannotRun(f"{entry.name}: its Ray Serve replica did not start ({message})")
        if time.monotonic() > deadline:
            serve.delete(name, _blocking=False)
            raise CannotRun(f"{entry.name}: no Ray Serve replica started within {DEPLOY_WAIT_S:.0f} s: the cluster "
                            f"may have no free CPU for it (each replica asks for {cpus})")
        time.sleep(DEPLOY_POLL_S)


@functools.cache
def _deployment() -> Any:
    """The Serve deployment class (built on first use: ``serve.batch`` needs Ray imported)."""
    from ray import serve

    batcher = micro_batcher()
    size, wait_s = (batcher.max_size, batcher.window_s) if batcher and batching_mode() != "off" else (1, 0.0)

    class ModelReplica(Replica):
        @serve.batch(max_batch_size=size, batch_wait_timeout_s=wait_s)
        async def answer(self, inputs: list[Any], options: list[dict[str, Any]]) -> list[RunResult | Exception]:
            return await asyncio.to_thread(self.answers, inputs, options)  # the loop keeps taking requests

    return serve.deployment(ModelReplica, name="model", max_ongoing_requests=4 * size)


def _grpc_on_loopback() -> None:
    """In a replica of a local cluster: its inter-deployment gRPC server listens on 127.0.0.1. Ray Serve 2.60 binds it
    to every interface (``[::]:0``, hard-coded; it unpickles what it receives and has no authentication unless
    Ray's token auth is on), right after the replica's constructor returns."""
    from ray.serve._private import replica

    bind = replica.add_port_to_grpc_server
    replica.add_port_to_grpc_server = lambda server, address: bind(server, address.replace("[::]", "127.0.0.1"))


class Replica:
    """Inside a Serve replica: one model, loaded once (again on a request if that failed), answering batches."""

    def __init__(self, entry: CatalogEntry, task: str, runtime: str, local: bool) -> None:
        if local:
            _grpc_on_loopback()
        self.entry, self.task, self.runtime = entry, task, runtime
        self.runner: Any = None
        self.failure: CannotRun | None = None
        self.load()

    def load(self) -> None:
        from components.models import SupplyError, create_runner, download_step, remote_download

        where = f"the Ray Serve replica on {socket.gethostname()}"
        try:
            with download_step(remote_download(where, log.info)):
                self.runner = create_runner(self.entry, self.task, "real", runtime=self.runtime)
            self.failure = None
        except (CannotRun, SupplyError) as exc:
            self.failure = CannotRun(str(exc))
        except Exception as exc:  # noqa: BLE001 - any load failure is this model's one line
            self.failure = CannotRun(f"{self.entry.name} could not load on {where}: {_line(exc)}")

    def answers(self, inputs: list[Any], options: list[dict[str, Any]]) -> list[RunResult | Exception]:
        """One answer (or the exception its request raises) per input, one runner call per group of equal options."""
        if self.runner is None:
            self.load()
        if self.runner is None:
            return [self.failure] * len(inputs)
        groups: dict[str, list[int]] = {}
        for i, chosen in enumerate(options):
            groups.setdefault(json.dumps(chosen, sort_keys=True, default=repr), []).append(i)
        found: list[Any] = [None] * len(inputs)
        for members in groups.values():
            answers = self.group([inputs[i] for i in members], options[members[0]])
            for i, answer in zip(members, answers):
                found[i] = answer
        return found

    def group(self, inputs: list[Any], options: dict[str, Any]) -> list[RunResult | Exception]:
        """Several inputs in one call (each with its share of the time), one input as in-process; a call that
        fails is run again one input at a time, so that a bad input fails only its own request."""
        if len(inputs) > 1 and get_task(self.task).micro_batched:
            try:
                return split_result(self.runner.run(inputs, **options))
            except Exception:  # noqa: BLE001 - one by one below
                pass
        return [self.single(item, options) for item in inputs]

    def single(self, item: Any, options: dict[str, Any]) -> RunResult | Exception:
        try:
            return self.runner.run(item, **options)
        except InputError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - handed back to that request as one line
            return CannotRun(f"{self.entry.name} failed on this input on its Ray Serve replica: {_line(exc)}")
