"""The Ray executor: each (model, runtime) row is a Ray task on a worker of a Ray cluster.

A local cluster (``ray.init()`` on this machine) or a real one (``--address`` / MODEL_EXPLORER_RAY_ADDRESS)
runs the same code. Each row task reserves ``num_cpus`` equal to its torch threads
(:func:`components.core.settings.torch_threads`), so two timings never share a core; the row's worker measures
load, latency, throughput, memory and FLOPs exactly as a local run does, and reports its node (hostname,
Ray node id) in ``env``. On a labelled set larger than ``shard_size``, the row's worker skips accuracy and
the set's samples are split into shards, each predicted by a task of its own (on whichever workers are
free); the predictions are joined in order and scored once with the task's metrics, so the figures equal
an unsharded evaluation's.

Downloads: a local cluster's workers read this server's Hugging Face cache, so the engine downloads every model
they need before handing them any row (``shares_cache``; on a page, through the page's visible, gated step). A
cluster elsewhere keeps its own caches: on a run from a page, a worker refuses a model missing from its cache
unless downloads are allowed there (MODEL_EXPLORER_ALLOW_DOWNLOADS, forwarded from this server), and otherwise
downloads it with its progress on the board.

Progress: tasks report to a small actor that the driver polls. Cancel: every task still running or
waiting is cancelled with ``force=True`` (its worker process is killed). A worker that dies fails only
its row, with the reason. Ray is imported when this executor runs, never at app import.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.compare.evaluation import uncertainty
from components.compare.executors.base import ExecutorError, Job, MeasureRow, PredictShard, Row, RowDone
from components.core import items_fingerprint, torch_threads

ADDRESS_ENV = "MODEL_EXPLORER_RAY_ADDRESS"
ALLOW_ENV = "MODEL_EXPLORER_ALLOW_RAY"  # "1": the Compare page offers a local Ray (started on this server)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
SHARD_SIZE = 256  # samples per accuracy shard; a multiple of the evaluation batch (components.compare.evaluation)
POLL_S = 0.2  # how often the driver checks progress and Cancel
REPORT_EVERY_S = 0.2  # how often a task sends its progress
CANCEL_WAIT_S = 10.0  # after Cancel, how long the driver waits for cancelled tasks to stop
CONNECT_TIMEOUT_S = 3.0  # a cluster address must answer a TCP connect this fast (Ray itself retries for minutes)
WORKING_DIR_EXCLUDES = [".git", "artifacts", "tests", "**/__pycache__", "*.onnx"]

_connect_lock = threading.RLock()
_joined: str | None = None  # the address this process joined ("" for a local cluster it started)
_active = 0  # comparisons of this process running on that cluster now


# ---------------------------------------------------------------- connecting

def forwarded_env() -> dict[str, str]:
    """The app's settings a worker needs: every MODEL_EXPLORER_* variable and the Hugging Face offline
    switches (the history file stays with the driver: only it writes there)."""
    names = [n for n in os.environ if n.startswith("MODEL_EXPLORER_") and n != "MODEL_EXPLORER_HISTORY"]
    names += [n for n in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE") if n in os.environ]
    return {name: os.environ[name] for name in names}


def runtime_env(address: str | None) -> dict[str, Any]:
    """How workers find the project: a local cluster's workers run beside this process, with its
    environment and sys.path; a remote cluster gets the project folder as its working_dir."""
    env_vars = forwarded_env()
    if not address:
        return {"env_vars": {**env_vars, "PYTHONPATH": os.pathsep.join(
            p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)}}
    return {"working_dir": str(PROJECT_ROOT), "excludes": WORKING_DIR_EXCLUDES, "env_vars": env_vars}


def page_ray_off() -> str | None:
    """Why the Compare page does not offer Ray (one line), or None when the operator enabled it: a cluster
    address (MODEL_EXPLORER_RAY_ADDRESS) or MODEL_EXPLORER_ALLOW_RAY=1. The CLI's ``--executor ray`` is not asked."""
    if os.environ.get(ADDRESS_ENV, "").strip() or os.environ.get(ALLOW_ENV, "").strip() == "1":
        return None
    return (f"Ray is off on this server: whoever starts it enables it with {ADDRESS_ENV} (a cluster to join) "
            f"or {ALLOW_ENV}=1 (a local Ray on this machine)")


@contextmanager
def _loopback_only() -> Iterator[None]:
    """While ``ray.init`` starts a local cluster, make this node's address 127.0.0.1: GCS, raylet, workers and
    agents then listen on the loopback only (checked with psutil), not on every interface.

    Ray 2.60 turns ``_node_ip_address="127.0.0.1"`` back into the machine's routable address
    (``services.resolve_ip_for_localhost``) and listens on ``::``; its own single-machine mode (macOS / Windows,
    ``ray_constants.ENABLE_RAY_CLUSTER`` off, env ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) uses the loopback.
    The switch is read when the node starts, so it is restored at once (a later join of a real cluster needs it).
    """
    from ray._private import ray_constants

    before = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = before


def connect(address: str | None = None) -> None:
    """Join the Ray cluster at ``address``, or start a new local one (never some other cluster that happens
    to run on this machine); reuse a connection this process holds.

    A process that called ``ray.init`` itself (a test, a notebook) keeps its cluster. ExecutorError
    says, in one line, why a cluster cannot be reached, or that this process still runs comparisons on
    the cluster it joined (it never leaves a cluster under a running comparison).
    """
    global _joined
    try:
        import ray
    except ImportError:
        raise ExecutorError("Ray is not installed here: pip install ray==2.60.0 (see requirements.txt)") from None

    wanted = (address or "").strip()
    with _connect_lock:
        if ray.is_initialized():
            if _joined is None or _joined == wanted:
                return
            if _active:
                joined = _joined or "a local Ray cluster"
                raise ExecutorError(f"this server is running {_active} comparison(s) on {joined}: it joins "
                                    f"{wanted or 'a local Ray cluster'} once they have finished")
            ray.shutdown()  # this process joined another cluster earlier: leave it for the one asked for
        if wanted and wanted != "auto":
            check_reachable(wanted)
        try:
            with _loopback_only() if not wanted else nullcontext():
                ray.init(address=wanted or "local", runtime_env=runtime_env(wanted), include_dashboard=False,
                         logging_level=logging.ERROR, log_to_driver=False)
        except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError, …
            where = f"at {wanted}" if wanted else "on this machine"
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExecutorError(f"cannot start or join a Ray cluster {where}: {message}") from None
        _joined = wanted


@contextmanager
def joined(address: str | None) -> Iterator[None]:
    """Connected to ``address`` (see :func:`connect`) and counted as a running comparison until the end,
    so that no other run of this process switches clusters under it."""
    global _active
    with _connect_lock:
        connect(address)
        _active += 1
    try:
        yield
    finally:
        with _connect_lock:
            _active -= 1


def check_fits(cpus: int) -> None:
    """ExecutorError unless some node of the cluster has ``cpus`` CPUs: Ray would queue a task that asks
    for more CPUs than any node has forever."""
    import ray

    try:
        largest = max((node.get("Resources", {}).get("CPU", 0.0) for node in ray.nodes() if node.get("Alive")),
                      default=0.0)
    except Exception as exc:  # noqa: BLE001 - the cluster went away since connect
        raise lost_cluster(exc) from None
    if largest < cpus:
        raise ExecutorError(f"each row reserves {cpus} CPUs (its torch threads, MODEL_EXPLORER_TORCH_THREADS) but "
                            f"the largest node of the Ray cluster has {largest:g}: lower "
                            f"MODEL_EXPLORER_TORCH_THREADS or add a larger node")


def lost_cluster(exc: BaseException) -> ExecutorError:
    """The one-line error for a Ray call that failed outside any row (the connection was shut down, …)."""
    text = str(exc).strip().splitlines()
    detail = f": {text[0][:160]}" if text else ""
    return ExecutorError(f"Ray stopped the comparison ({type(exc).__name__}{detail})")


def check_reachable(address: str) -> None:
    """ExecutorError unless ``host:port`` (or ``ray://host:port``) answers a TCP connect within
    CONNECT_TIMEOUT_S, name lookup included."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(f"Ray address '{address}' is not host:port (e.g. head-node:6379 or ray://head-node:10001)")
    failure: list[str] = []

    def probe() -> None:
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            failure.append(exc.strerror or str(exc) or type(exc).__name__)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(CONNECT_TIMEOUT_S + 0.5)  # getaddrinfo ignores socket timeouts: bound it here
    if worker.is_alive() or failure:
        reason = failure[0] if failure else "no answer"
        raise ExecutorError(f"no Ray cluster answers at {address} ({reason})")


# ---------------------------------------------------------------- on the workers

class ProgressBoard:
    """A tiny actor, one per driver: each run's tasks post (fraction, message) under the run's token
    and their key; the driver reads its run's latest and forgets it at the end."""

    def __init__(self) -> None:
        self.fractions: dict[str, dict[str, float]] = {}
        self.messages: dict[str, str] = {}

    def post(self, token: str, key: str, fraction: float, message: str) -> None:
        run = self.fractions.setdefault(token, {})
        run[key] = max(fraction, run.get(key, 0.0))
        if message:
            self.messages[token] = message

    def read(self, token: str) -> tuple[dict[str, float], str]:
        return self.fractions.get(token, {}), self.messages.get(token, "")

    def forget(self, token: str) -> None:
        self.fractions.pop(token, None)
        self.messages.pop(token, None)


_boards: dict[str, Any] = {}  # (node, job) -> this driver's ProgressBoard (started once: a process each)


def progress_board() -> Any:
    """This driver's board, started on first use in each Ray session."""
    import ray

    context = ray.get_runtime_context()
    job = f"{context.get_node_id()} {context.get_job_id()}"  # a new cluster has a new node id
    with _connect_lock:
        if job not in _boards:
            _boards.clear()
            _boards[job] = ray.remote(ProgressBoard).options(num_cpus=0).remote()
        return _boards[job]


@dataclass(frozen=True)
class Board:
    """Where a run's tasks post progress: the driver's board and the run's token."""

    actor: Any
    token: str


class _Reporter:
    """A task's progress callback: sends at most every REPORT_EVERY_S (and always the last one)."""

    def __init__(self, board: Board, key: str) -> None:
        self.board, self.key, self.sent = board, key, 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self.sent >= REPORT_EVERY_S or fraction >= 1.0:
            self.sent = now
            self.board.actor.post.remote(self.board.token, self.key, fraction, message)


def _node_env() -> dict[str, Any]:
    import ray

    return {"executor": "ray", "hostname": socket.gethostname(),
            "ray_node_id": ray.get_runtime_context().get_node_id(), "worker_pid": os.getpid()}


@contextmanager
def _worker_downloads(gated: bool, report: _Reporter) -> Iterator[None]:
    """On a worker, for a run from a page (``gated``): a model missing from this node's Hugging Face cache is
    refused (the row's one-line error) unless downloads are allowed here, else fetched with its progress
    posted to the board; the CLI's runs download as its local runs do."""
    if not gated:
        yield
        return
    from components.models import download_step, remote_download

    with download_step(remote_download(f"Ray worker {socket.gethostname()}", lambda line: report(0.0, line))):
        yield


def _row_task(measure: MeasureRow, dataset: Any, config: Any, row: Row, board: Board, accuracy: bool,
              gated: bool = False) -> RowDone:
    """On a worker: measure one row as a local run would (progress to the board)."""
    report = _Reporter(board, f"row {row.index}")
    with _worker_downloads(gated, report):
        done = measure(row, dataset, config, report, None, None, 0, 1, accuracy=accuracy)
    if done.result is not None:
        done.result.env.update(_node_env())
    return done


def _shard_task(predict: PredictShard, dataset: Any, config: Any, row: Row, start: int, stop: int,
                board: Board, gated: bool = False) -> list[Any]:
    """On a worker: one row's predictions on samples ``start`` to ``stop``."""
    report, seen = _Reporter(board, f"shard {row.index} {start}"), [0]

    def tick(n: int) -> None:
        seen[0] += n
        report(seen[0] / max(stop - start, 1), f"{row.entry.name}: evaluating (samples {start}-{stop})")

    with _worker_downloads(gated, report):
        return predict(row, dataset, config, start, stop, tick)


# ---------------------------------------------------------------- on the driver

@dataclass
class _Sharded:
    """A row whose accuracy is being predicted in shards."""

    done: RowDone  # the row's measurements, without accuracy yet
    bounds: list[tuple[int, int]]
    predictions: dict[int, list[Any]] = field(default_factory=dict)


class RayExecutor:
    """Rows as Ray tasks on a local or remote cluster (see the module docstring)."""

    name = "ray"

    def __init__(self, address: str | None = None, shard_size: int = SHARD_SIZE) -> None:
        if shard_size < 1:
            raise ValueError("shard_size must be >= 1")
        self.address = address if address is not None else os.environ.get(ADDRESS_ENV, "")
        self.shard_size = shard_size
        self.shares_cache = not self.address  # a local cluster's workers run beside this server

    def shards(self, job: Job) -> list[tuple[int, int]]:
        """Sample ranges of the accuracy shards (none when the set fits one shard)."""
        n = len(job.dataset)
        if not job.dataset.labelled or n <= self.shard_size:
            return []
        from components.compare.evaluation import EVAL_BATCH

        size = max(EVAL_BATCH, self.shard_size // EVAL_BATCH * EVAL_BATCH)  # whole evaluation batches
        return [(start, min(start + size, n)) for start in range(0, n, size)]

    def run(self, rows: Sequence[Row], job: Job) -> Iterator[RowDone]:
        """Rows as tasks (see the module docstring). ExecutorError when the cluster cannot be joined, is
        too small for a row, or stops answering mid-run."""
        if not rows:
            return
        with joined(self.address):
            import ray

            check_fits(torch_threads())
            bounds = self.shards(job)
            try:
                board = Board(progress_board(), uuid.uuid4().hex)
                work = _RayRun(job, bounds, _ProgressTracker(job.progress, board, [row.index for row in rows],
                                                             bool(bounds)))
            except Exception as exc:  # noqa: BLE001 - the cluster went away, or the set cannot be sent
                raise lost_cluster(exc) from None
            try:
                work.submit_rows(rows)
                while work.pending:
                    try:
                        ready, _ = ray.wait(list(work.pending), num_returns=1, timeout=POLL_S)
                    except Exception as exc:  # noqa: BLE001 - e.g. the connection was shut down
                        raise lost_cluster(exc) from None
                    if job.cancel is not None and job.cancel.is_set():
                        return
                    work.tracker.update()
                    for ref in ready:
                        yield from work.collect(ref)
            finally:
                try:
                    _stop(list(work.pending))
                    work.board.actor.forget.remote(work.board.token)
                except Exception:  # noqa: BLE001 - the cluster is gone: nothing left to stop
                    pass


class _RayRun:
    """One comparison's tasks on the cluster: rows, then (for sharded accuracy) their shards."""

    def __init__(self, job: Job, bounds: list[tuple[int, int]], tracker: _ProgressTracker) -> None:
        import ray

        cpus = torch_threads()  # each task reserves the cores its torch threads use
        self.remote_row = ray.remote(num_cpus=cpus, max_retries=0)(_row_task)
        self.remote_shard = ray.remote(num_cpus=cpus, max_retries=0)(_shard_task)
        self.job, self.bounds, self.tracker, self.board = job, bounds, tracker, tracker.board
        self.dataset = ray.put(job.dataset)  # once: every task reads it from the object store
        self.pending: dict[Any, tuple[Row, int | None]] = {}  # task -> (row, shard start; None: the row itself)
        self.sharded: dict[int, _Sharded] = {}

    def submit_rows(self, rows: Sequence[Row]) -> None:
        """Longest first (Ray starts queued tasks in order), so that rows side by side end close together."""
        ordered = sorted(rows, key=lambda row: self.job.work(row, self.job.dataset, self.job.config), reverse=True)
        for row in ordered:  # the task's name is its worker's process title: "ray::bench <row>"
            try:
                ref = self.remote_row.options(name=f"bench {row.key}").remote(
                    self.job.measure, self.dataset, self.job.config, row, self.board, not self.bounds,
                    self.job.gate_downloads)
            except Exception as exc:  # noqa: BLE001 - the cluster went away
                raise lost_cluster(exc) from None
            self.pending[ref] = (row, None)

    def collect(self, ref: Any) -> Iterator[RowDone]:
        """Take one finished task: a row (done, or on to its shards) or a shard (the row done once all are)."""
        import ray

        row, start = self.pending.pop(ref)
        try:
            value = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the task failed, or its worker died
            yield self._failed(row, failure_line(row, exc))
            return
        except Exception as exc:  # noqa: BLE001 - not this row: the connection itself failed
            raise lost_cluster(exc) from None
        if start is None:
            yield from self._row_measured(value)
            return
        state = self.sharded[row.index]
        state.predictions[start] = value
        if len(state.predictions) < len(state.bounds):
            return
        del self.sharded[row.index]
        predictions = [p for lo, _ in state.bounds for p in state.predictions[lo]]
        result = state.done.result
        try:
            result.metrics = self.job.score(self.job.dataset.task, self.job.dataset.labels, predictions)
            result.item_scores, result.metrics_ci = uncertainty(self.job.dataset.task, self.job.dataset.labels,
                                                                predictions)
        except Exception as exc:  # noqa: BLE001 - a scorer failure fails this row only
            yield self._failed(row, f"{row.key} could not be scored: {type(exc).__name__}: {exc}")
            return
        result.n_samples = len(predictions)
        result.items_fingerprint = items_fingerprint(self.job.dataset.ids, self.job.dataset.labels)
        result.env["accuracy_shards"] = len(state.bounds)
        self.tracker.finish(row.index)
        yield state.done

    def _row_measured(self, done: RowDone) -> Iterator[RowDone]:
        """A row's measurements are back: done, unless its accuracy is still to be predicted in shards."""
        if done.result is None or done.result.weights != "real" or not self.bounds:
            self.tracker.finish(done.row.index)
            yield done
            return
        self.sharded[done.row.index] = _Sharded(done, self.bounds)
        for lo, hi in self.bounds:
            try:
                ref = self.remote_shard.options(name=f"shard {done.row.key} {lo}-{hi}").remote(
                    self.job.predict, self.dataset, self.job.config, done.row, lo, hi, self.board,
                    self.job.gate_downloads)
            except Exception as exc:  # noqa: BLE001 - the cluster went away
                raise lost_cluster(exc) from None
            self.pending[ref] = (done.row, lo)

    def _failed(self, row: Row, reason: str) -> RowDone:
        """A row fails: its other shards stop, the rest of the comparison goes on."""
        others = [ref for ref, (owner, _) in self.pending.items() if owner.index == row.index]
        for ref in others:
            self.pending.pop(ref)
        _stop(others)
        self.sharded.pop(row.index, None)
        self.tracker.finish(row.index)
        return RowDone(row, error=reason)


class _ProgressTracker:
    """The overall fraction from each row's posts (a sharded row: half timing, half its shards)."""

    def __init__(self, progress: Callable[[float, str], None] | None, board: Board, indices: list[int],
                 sharded: bool) -> None:
        self.progress, self.board, self.sharded = progress, board, sharded
        self.finished: set[int] = set()
        self.indices = indices
        self.last, self.shown = 0.0, 0.0

    def finish(self, index: int) -> None:
        self.finished.add(index)

    def update(self) -> None:
        if self.progress is None or time.monotonic() - self.last < POLL_S:
            return
        import ray

        self.last = time.monotonic()
        try:
            fractions, message = ray.get(self.board.actor.read.remote(self.board.token), timeout=1.0)
        except Exception:  # noqa: BLE001 - starting up, or gone (ray.wait then reports a lost cluster): next time
            return
        total = sum(self._row_fraction(index, fractions) for index in self.indices)
        self.shown = max(self.shown, total / len(self.indices))
        self.progress(min(self.shown, 0.999), message or "starting Ray workers")

    def _row_fraction(self, index: int, fractions: dict[str, float]) -> float:
        if index in self.finished:
            return 1.0
        timing = fractions.get(f"row {index}", 0.0)
        if not self.sharded:
            return timing
        shards = [f for key, f in fractions.items() if key.startswith(f"shard {index} ")]
        return 0.5 * timing + 0.5 * (sum(shards) / max(len(shards), 1) if shards else 0.0)


def _stop(refs: list[Any]) -> None:
    """Cancel tasks (killing their workers) and wait, briefly, until they have stopped."""
    if not refs:
        return
    import ray

    for ref in refs:
        try:
            ray.cancel(ref, force=True)
        except Exception:  # noqa: BLE001 - already finished or gone
            pass
    ray.wait(refs, num_returns=len(refs), timeout=CANCEL_WAIT_S)


def failure_line(row: Row, exc: BaseException) -> str:
    """One line for a row whose Ray task did not come back: the worker died, or the task failed."""
    import ray

    cause = exc.cause if isinstance(exc, ray.exceptions.RayTaskError) and exc.cause is not None else exc
    text = str(cause).strip().splitlines()
    detail = f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__
    if isinstance(exc, ray.exceptions.RayTaskError):
        return f"{row.key} failed on its Ray worker: {detail}"
    return f"{row.key} failed: its Ray worker died mid-run ({detail})"
