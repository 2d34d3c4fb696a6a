"""Cross-session micro-batching: single requests for the same loaded model (same weights, runtime, task and options)
that arrive while a batch is collecting run as one forward pass, as Triton's dynamic batching or Ray Serve's
``@serve.batch`` do.

A request joins the batch being collected for its key, or opens one and leads it. The leader waits for a place in
the server's queue (while it waits, the batch keeps filling, up to ``max_size``), then up to ``window_s`` from the
batch's opening for more, runs every member's input in one call and hands each member its own answer, with its share
of the stages' time and the batch's size. A leader that leaves before the batch runs (a refused or abandoned wait)
hands the lead to the next member. A batch whose call fails is run again one input at a time, so one bad input fails
only its own request.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from components.core import limits
from components.models.runners.base import RunResult

WINDOW_MS_ENV = "MODEL_EXPLORER_BATCH_WINDOW_MS"
MAX_SIZE_ENV = "MODEL_EXPLORER_BATCH_MAX"
DEFAULT_WINDOW_MS = 5.0  # how long a leader with company waits for more (README "Cross-session batching")
DEFAULT_MAX_SIZE = 8

BatchCall = Callable[[list[Any]], list[Any]]  # every member's input -> one answer each, in order


@dataclass
class _Member:
    inputs: Any
    answer: Any = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class _Batch:
    key: str
    opened: float
    members: list[_Member] = field(default_factory=list)
    leader: _Member | None = None
    running: bool = False


class MicroBatcher:
    """Batches of single requests, one collecting batch per key at a time."""

    def __init__(self, window_s: float, max_size: int) -> None:
        self.window_s = max(0.0, window_s)
        self.max_size = max(1, max_size)
        self._cond = threading.Condition()
        self._open: dict[str, _Batch] = {}

    def answer(self, key: str, inputs: Any, call: BatchCall, slot: Callable[[], AbstractContextManager[Any]],
               wait_s: float, idle: Callable[[], bool] = lambda: False) -> tuple[Any, bool]:
        """(``inputs``' answer, whether this request led its batch), computed in a batch with the other requests
        for ``key``: the leader holds ``slot()`` (a place in the server's queue) while the batch runs, and does not
        wait out the window alone on an ``idle()`` server; a member waits at most ``wait_s``."""
        batch, member = self._join(key, inputs)
        deadline, led = time.monotonic() + wait_s, False
        while True:
            if batch.leader is member:
                led = True
                try:
                    with slot():
                        self._run(batch, call, idle)
                finally:
                    self._leave(batch, member)
            with self._cond:
                leader = batch.leader
                while not member.done and batch.leader is not member:
                    if batch.leader is not leader:  # the lead was handed on: its new leader waits afresh
                        leader, deadline = batch.leader, time.monotonic() + wait_s
                    left = deadline - time.monotonic()
                    if left <= 0:
                        batch.members.remove(member)
                        raise limits.Refused(f"Waited {wait_s:.0f} s for a batch of requests to run on this busy "
                                             "server: try again later.")
                    self._cond.wait(left)
            if member.done:
                if member.error is not None:
                    raise member.error
                return member.answer, led

    def _join(self, key: str, inputs: Any) -> tuple[_Batch, _Member]:
        member = _Member(inputs)
        with self._cond:
            batch = self._open.get(key)
            if batch is None or len(batch.members) >= self.max_size:
                batch = self._open[key] = _Batch(key, time.monotonic())
                batch.leader = member
            batch.members.append(member)
            if len(batch.members) >= self.max_size:
                self._cond.notify_all()  # a full batch need not wait out the window
            return batch, member

    def _run(self, batch: _Batch, call: BatchCall, idle: Callable[[], bool]) -> None:
        with self._cond:
            alone = len(batch.members) == 1 and idle()  # nobody else at work: a lone request pays no window
            while not alone and len(batch.members) < self.max_size:
                left = batch.opened + self.window_s - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch.running = True
            if self._open.get(batch.key) is batch:
                del self._open[batch.key]
            members = list(batch.members)
        answers = _answers([m.inputs for m in members], call)
        with self._cond:
            for (answer, error), member in zip(answers, members):
                member.answer, member.error, member.done = answer, error, True
            self._cond.notify_all()

    def _leave(self, batch: _Batch, member: _Member) -> None:
        """The leader is done with ``batch``: ran it, or left before it ran (the next member leads)."""
        with self._cond:
            if batch.running or member.done:
                return
            batch.members.remove(member)
            batch.leader = batch.members[0] if batch.members else None
            if batch.leader is None and self._open.get(batch.key) is batch:
                del self._open[batch.key]
            self._cond.notify_all()


def _answers(inputs: list[Any], call: BatchCall) -> list[tuple[Any, BaseException | None]]:
    """(answer, None) or (None, error) per input: one call for all, else, when that fails, one call each."""
    if len(inputs) > 1:
        try:
            answers = call(inputs)
            if len(answers) == len(inputs):
                return [(answer, None) for answer in answers]
        except Exception:  # noqa: BLE001 - a bad input must fail only its own request: run them one by one
            pass
    found: list[tuple[Any, BaseException | None]] = []
    for single in inputs:
        try:
            found.append((call([single])[0], None))
        except Exception as exc:  # noqa: BLE001 - handed to that input's request, which shows it
            found.append((None, exc))
    return found


def split_result(result: RunResult) -> list[RunResult]:
    """One :class:`RunResult` per item of a runner's answer to a list of inputs, each with its share of the time."""
    size = len(result.output)
    share = {stage: ms / size for stage, ms in result.stages_ms.items()}
    return [replace(result, output=output, stages_ms=dict(share), batch_size=size) for output in result.output]


def batch_key(runner: Any, task: str, options: dict[str, Any]) -> str | None:
    """What requests share to run in one batch: the same loaded model, runtime, task and options; None when the
    options are not plain data (never batched)."""
    try:
        chosen = json.dumps(options, sort_keys=True)
    except TypeError:
        return None
    return json.dumps([runner.entry.id, id(runner.loaded), runner.runtime.name, task, chosen])


_BATCHER: MicroBatcher | None = None
_BATCHER_LOCK = threading.Lock()


def _number(env: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(env, "").strip()))
    except ValueError:
        return default


def micro_batcher() -> MicroBatcher | None:
    """The process-wide batcher, sized by MODEL_EXPLORER_BATCH_WINDOW_MS / MODEL_EXPLORER_BATCH_MAX; None when
    ``MODEL_EXPLORER_BATCH_MAX`` is 1 or less (batching off)."""
    global _BATCHER
    with _BATCHER_LOCK:
        if _BATCHER is None:
            _BATCHER = MicroBatcher(_number(WINDOW_MS_ENV, DEFAULT_WINDOW_MS) / 1000,
                                    int(_number(MAX_SIZE_ENV, DEFAULT_MAX_SIZE)))
        return _BATCHER if _BATCHER.max_size > 1 else None
