"""What one visitor may ask of the server: caps per run, a budget of model-work seconds per session, and one
server-wide queue that every session's model work waits in (a bounded number run at once, a bounded number
wait; beyond that a request is refused). Each limit is a ``MODEL_EXPLORER_*`` variable with a default, read
when it is applied. The pages apply them; the CLIs (operator tools) do not."""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

POLL_S = 1.0  # how often a waiting request looks at its position again (it is also woken on every release)
WINDOW_S = 3600.0  # the session work budget counts the model work of the last hour


class Refused(Exception):
    """A request beyond a limit; its text is the one line the page shows (it names the variable that raises it)."""


@dataclass(frozen=True)
class Limit:
    env: str  # the variable that sets it
    default: int
    what: str  # what it counts, as in "19 models per run"

    def value(self) -> int:
        """The operator's value (a whole number >= 0), else the default."""
        try:
            return max(0, int(os.environ.get(self.env, "").strip()))
        except ValueError:
            return self.default


MAX_MODELS = Limit("MODEL_EXPLORER_MAX_MODELS", 6, "models per run")
MAX_RUNTIMES = Limit("MODEL_EXPLORER_MAX_RUNTIMES", 3, "runtimes per run")  # all three: a lesson compares them
MAX_TIMED_RUNS = Limit("MODEL_EXPLORER_MAX_TIMED_RUNS", 30, "timed runs per model")
MAX_SET_SAMPLES = Limit("MODEL_EXPLORER_MAX_SET_SAMPLES", 2000, "samples per set")
MAX_SCORECAM = Limit("MODEL_EXPLORER_MAX_SCORECAM", 2, "models per Score-CAM explanation")
MAX_RUN_S = Limit("MODEL_EXPLORER_MAX_RUN_S", 900, "seconds per Compare run or robustness curve")
SESSION_WORK_S = Limit("MODEL_EXPLORER_SESSION_WORK_S", 1800, "seconds of model work per visitor per hour")
QUEUE_SLOTS = Limit("MODEL_EXPLORER_QUEUE_SLOTS", 2, "model jobs running at once")
QUEUE_DEPTH = Limit("MODEL_EXPLORER_QUEUE_DEPTH", 32, "model jobs waiting")  # a class of 30 (README: capacity)
QUEUE_WAIT_S = Limit("MODEL_EXPLORER_QUEUE_WAIT_S", 300, "seconds a job waits for a slot")


def check(limit: Limit, asked: int) -> None:
    """Raise :class:`Refused` when ``asked`` is over ``limit``."""
    cap = limit.value()
    if asked > cap:
        raise Refused(f"{limit.what[:1].upper()}{limit.what[1:]}: {asked} asked, this server allows {cap} "
                      f"({limit.env} raises it).")


def clamped(limit: Limit, asked: int) -> int:
    """``asked``, or the cap where it is lower."""
    return min(asked, limit.value())


# ---------------------------------------------------------------- the queue

class WorkQueue:
    """At most ``slots`` jobs at once, at most ``depth`` waiting in order of arrival; a job beyond the depth,
    or one that waits longer than its ``wait_s``, is refused."""

    def __init__(self, slots: int, depth: int) -> None:
        self.slots, self.depth = max(1, slots), max(0, depth)
        self._cond = threading.Condition()
        self._running = 0
        self._waiting: deque[object] = deque()

    @contextmanager
    def slot(self, wait_s: float, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
        """Hold a slot for the body; while waiting, ``on_wait(position)`` is called when the position changes
        (outside the lock: it may draw on a page, or raise to abandon the wait)."""
        self._enter(wait_s, on_wait)
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def _enter(self, wait_s: float, on_wait: Callable[[int], None] | None) -> None:
        ticket, shown = object(), 0
        with self._cond:
            if self._running < self.slots and not self._waiting:
                self._running += 1
                return
            if len(self._waiting) >= self.depth:
                raise Refused(f"The server is busy: {self.slots} model job(s) running and {len(self._waiting)} "
                              f"waiting; try again in a minute ({QUEUE_DEPTH.env} raises the queue).")
            self._waiting.append(ticket)
        deadline = time.monotonic() + wait_s
        try:
            while True:
                with self._cond:
                    position = self._waiting.index(ticket) + 1
                    if position == 1 and self._running < self.slots:
                        self._waiting.popleft()
                        self._running += 1
                        self._cond.notify_all()
                        return
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise Refused(f"Waited {wait_s:.0f} s for a free slot on this busy server: try again later "
                                      f"({QUEUE_WAIT_S.env} raises the wait, {QUEUE_SLOTS.env} the slots).")
                    if position == shown or on_wait is None:
                        self._cond.wait(min(left, POLL_S))
                        continue
                shown = position
                on_wait(position)
        finally:
            with self._cond:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                    self._cond.notify_all()

    def state(self) -> tuple[int, int]:
        """(jobs running, jobs waiting)."""
        with self._cond:
            return self._running, len(self._waiting)


# ---------------------------------------------------------------- per session

class SessionWork:
    """Seconds of model work per session over the last :data:`WINDOW_S`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, deque[tuple[float, float]]] = {}  # session -> (when it ended, seconds)

    def add(self, session: str, seconds: float, now: float | None = None) -> None:
        with self._lock:
            self._done.setdefault(session, deque()).append((time.monotonic() if now is None else now, seconds))

    def used(self, session: str, now: float | None = None) -> float:
        """Seconds used in the window (older entries and idle sessions are dropped)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for name in list(self._done):
                done = self._done[name]
                while done and done[0][0] < now - WINDOW_S:
                    done.popleft()
                if not done:
                    del self._done[name]
            return sum(seconds for _, seconds in self._done.get(session, ()))


_QUEUE: WorkQueue | None = None
_QUEUE_LOCK = threading.Lock()
SESSIONS = SessionWork()
_HELD = threading.local()  # whether this thread holds a slot: nested model work does not queue again


def server_queue() -> WorkQueue:
    """The one queue of this process, sized from the variables when first used."""
    global _QUEUE
    with _QUEUE_LOCK:
        if _QUEUE is None:
            _QUEUE = WorkQueue(QUEUE_SLOTS.value(), QUEUE_DEPTH.value())
        return _QUEUE


def holds_slot() -> bool:
    """Whether this thread holds a slot of the queue (its model work does not queue again)."""
    return getattr(_HELD, "slot", False)


def check_budget(session: str) -> None:
    """Raise :class:`Refused` when ``session`` spent its model-work budget."""
    budget, used = SESSION_WORK_S.value(), SESSIONS.used(session)
    if used >= budget:
        raise Refused(f"This session used {used:.0f} s of model work in the last hour, the most this server "
                      f"allows: try again later ({SESSION_WORK_S.env} raises it).")


@contextmanager
def model_work(session: str, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
    """Run the body as one job of ``session`` in the server queue, counting its seconds against the session's
    budget; raises :class:`Refused` when the budget is spent, the queue full or the wait too long."""
    if holds_slot():
        yield
        return
    check_budget(session)
    with server_queue().slot(QUEUE_WAIT_S.value(), on_wait):
        started, _HELD.slot = time.monotonic(), True
        try:
            yield
        finally:
            _HELD.slot = False
            SESSIONS.add(session, time.monotonic() - started)
