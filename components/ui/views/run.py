"""Run several models on one input with a progress bar; failures become readable card errors."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.core import CatalogEntry, InputError, get_task, limits
from components.models import (
    CannotRun,
    Extras,
    PeakMemory,
    Runner,
    RunResult,
    SupplyError,
    batch_key,
    batching_pays,
    create_runner,
    fetch_weights,
    get_manager,
    input_digest,
    measure_batching,
    micro_batcher,
    result_key,
    shared_results,
    split_result,
)
from components.serve import LOCAL as SERVE_LOCAL
from components.serve import remote_run, serve_address
from components.ui.shell.server_files import models_dir

log = logging.getLogger(__name__)
WAIT_MARGIN_S = 60  # a batch member waits for its leader's queue wait plus this


@dataclass
class CardData:
    """What one result card shows: a result, or why there is none."""

    entry: CatalogEntry
    result: RunResult | None = None
    error: str = ""
    peak_rss_mb: float = 0.0
    loaded_now: bool = False
    model_extras: Extras | None = None  # e.g. the transform the model used
    shared: bool = False  # the answer another session computed (its latency and memory, as measured then)


@contextmanager
def model_slot(what: str) -> Iterator[None]:
    """Hold one of the server's model-work slots (:mod:`components.core.limits`) for the body; while it waits, a line
    says its place in the queue. Raises ``limits.Refused`` (one line) when the queue is full, the wait too long
    or this session's work budget spent."""
    run = get_script_run_ctx()
    notice = st.empty()

    def waiting(position: int) -> None:
        notice.info(f"{what} waits for the models other visitors are running: number {position} in the queue.",
                    icon=":material/hourglass_top:")

    try:
        with limits.model_work(run.session_id if run else "", waiting):
            notice.empty()
            yield
    finally:
        notice.empty()


def refusal(exc: limits.Refused) -> None:
    """A request over a limit: its one line."""
    st.error(str(exc), icon=":material/block:")


def run_models(entries: list[CatalogEntry], task: str, inputs: Any, runtime: str = "eager",
               **options: Any) -> list[CardData]:
    """Load (once per process) and run each model on ``inputs`` and ``runtime``, showing progress, as one job
    of the server's queue. Raises ``limits.Refused`` over a limit: app.py shows it as one line."""
    limits.check(limits.MAX_MODELS, len(entries))
    if serve_address():  # the models run on a Ray Serve cluster, not in this process
        return _run_on_serve(entries, task, inputs, runtime, options)
    content = input_digest(inputs) if shared_results().max_bytes else None  # 0 MB: sharing off
    claimed: list[str] = []
    try:
        shared = _all_shared(entries, task, content, runtime, options, claimed)
        if shared is not None:  # every answer is the server's already: no model work, no place in the queue
            return shared
        if _batched(entries, task, runtime):  # each model's batch takes its own place in the queue
            return _run_each(entries, task, (inputs, content), runtime, **options)
        with model_slot(f"Running {len(entries)} model(s)"):
            return _run_each(entries, task, (inputs, content), runtime, **options)
    finally:
        for key in claimed:  # computed (stored) or failed: those waiting for it go on
            shared_results().release(key)


def _run_on_serve(entries: list[CatalogEntry], task: str, inputs: Any, runtime: str,
                  options: dict[str, Any]) -> list[CardData]:
    """Each model's answer from its Ray Serve deployment (MODEL_EXPLORER_SERVE_ADDRESS): no model is loaded here and
    no slot of this server's queue is taken; the session's budget is charged each answer's share of its batch."""
    run = get_script_run_ctx()
    session = run.session_id if run else ""
    limits.check_budget(session)
    cards: list[CardData] = []
    bar = st.progress(0.0, text="Starting…")
    for i, entry in enumerate(entries):
        card = CardData(entry)
        cards.append(card)
        bar.progress(i / len(entries), text=f"Running {entry.name} on Ray Serve ({i + 1}/{len(entries)})…")
        try:
            if serve_address() == SERVE_LOCAL:  # its replicas read this server's cache: download here, with the step
                fetch_weights(entry, task, "real", models_dir())
            card.result = remote_run(entry, task, inputs, runtime, options)
            limits.SESSIONS.add(session, card.result.latency_ms / 1000)
        except (CannotRun, InputError) as exc:
            card.error = str(exc)
    bar.progress(1.0, text=f"Done: {sum(c.result is not None for c in cards)} of {len(cards)} models answered")
    return cards


def _batched(entries: list[CatalogEntry], task: str, runtime: str) -> bool:
    """Whether this run's models answer through the server's micro-batches: batching on, a task whose runners
    answer lists item by item, every model loaded (loading is queued work of its own), no slot held already."""
    manager = get_manager()
    return (micro_batcher() is not None and get_task(task).micro_batched and not limits.holds_slot()
            and all(manager.is_loaded(entry.id, runtime) and batching_pays(entry.id, runtime, task)
                    for entry in entries))


def _all_shared(entries: list[CatalogEntry], task: str, content: str | None, runtime: str,
                options: dict[str, Any], claimed: list[str]) -> list[CardData] | None:
    """The cards of a run whose every answer is shared (its models loaded; an answer another session is computing
    is waited for), else None, with the keys this run computes for the others added to ``claimed``. A run that
    claimed a key waits for none (two runs never wait for each other)."""
    if content is None:
        return None
    cache, cards = shared_results(), []
    for entry in entries:
        if not get_manager().is_loaded(entry.id, runtime):
            return None
        try:
            runner = create_runner(entry, task, weights="real", runtime=runtime, extra_dir=models_dir())
        except CannotRun:
            return None
        key = result_key(runner, task, content, options)
        if key is None:
            return None
        found = cache.get(key)
        if found is None and cache.claim(key):
            claimed.append(key)
        elif found is None and not claimed:
            with st.spinner(f"Another visitor is running {entry.name} on this same input: its answer is shared…"):
                found = cache.wait(key, limits.QUEUE_WAIT_S.value())
        if found is not None:
            result, peak_mb = found
            cards.append(CardData(entry, result, peak_rss_mb=peak_mb, model_extras=runner.loaded.extras,
                                  shared=True))
    return cards if len(cards) == len(entries) else None


def _run_each(entries: list[CatalogEntry], task: str, given: tuple[Any, str | None], runtime: str,
              **options: Any) -> list[CardData]:
    inputs, content = given
    cards: list[CardData] = []
    bar = st.progress(0.0, text="Starting…")
    steps = max(1, 2 * len(entries))
    manager = get_manager()
    for i, entry in enumerate(entries):
        card = CardData(entry)
        cards.append(card)
        try:
            was_loaded = manager.is_loaded(entry.id, runtime)
            on = "" if runtime == "eager" else f" on {runtime} (the first time exports it, a few seconds)"
            bar.progress((2 * i) / steps, text=f"Loading {entry.name}{on} ({i + 1}/{len(entries)})…"
                         if not was_loaded else f"{entry.name} is loaded ({i + 1}/{len(entries)})")
            # the folder named in the sidebar made this model selectable: loading must look there too
            runner = create_runner(entry, task, weights="real", runtime=runtime, extra_dir=models_dir())
            card.loaded_now = not was_loaded
            card.model_extras = runner.loaded.extras
            bar.progress((2 * i + 1) / steps, text=f"Running {entry.name} ({i + 1}/{len(entries)})…")
            _answer(card, runner, task, (inputs, content), options)
        except (CannotRun, InputError, SupplyError) as exc:
            card.error = str(exc)
        except limits.Refused:  # a batch's place in the queue refused: the whole run is, in one line
            raise
        except Exception as exc:  # noqa: BLE001 - one failing model must not stop the others
            log.exception("model %s failed on %s", entry.id, task)
            card.error = f"{entry.name} failed on this input: {type(exc).__name__}: {exc}"
    bar.progress(1.0, text=f"Done: {sum(c.result is not None for c in cards)} of {len(cards)} models answered")
    return cards


def _answer(card: CardData, runner: Runner, task: str, given: tuple[Any, str | None], options: dict[str, Any]) -> None:
    """The runner's result and peak memory on ``given`` (the input, its content digest or None: not shared): the
    server's shared answer when one exists, else computed here and shared."""
    inputs, content = given
    cache = shared_results()
    key = result_key(runner, task, content, options)
    found = cache.get(key) if key else None
    if found is not None:
        card.result, card.peak_rss_mb = found
        card.shared = True
        return
    batcher, together = micro_batcher(), batch_key(runner, task, options)
    if limits.holds_slot() or batcher is None or together is None:
        with nullcontext() if limits.holds_slot() else model_slot(f"Running {card.entry.name}"):  # always queued
            card.result, card.peak_rss_mb = _measured(runner, options, [inputs])[0]
            if batcher is not None and get_task(task).micro_batched and not _alone() and \
                    batching_pays(runner.entry.id, runner.runtime.name, task) is None:
                measure_batching(runner, task, inputs, options)  # once per model, in this run's slot
    else:
        run = get_script_run_ctx()
        session = run.session_id if run else ""
        limits.check_budget(session)
        (card.result, card.peak_rss_mb), led = batcher.answer(
            together, inputs, lambda items: _measured(runner, options, items),
            lambda: model_slot(f"Running {card.entry.name}"), limits.QUEUE_WAIT_S.value() + WAIT_MARGIN_S,
            idle=_alone)
        others = (card.result.batch_size - 1) * card.result.latency_ms / 1000  # the other members' shares
        # each session pays its own share: a member adds it, the leader (whose slot counted the whole batch) gives
        # the others' back
        limits.SESSIONS.add(session, -others if led else card.result.latency_ms / 1000)
    if key:
        cache.put(key, (card.result, card.peak_rss_mb))


def _alone() -> bool:
    """Whether this run's slot is the only model work on the server: nobody to batch with (a lone visitor never pays
    for measuring whether batching pays)."""
    return limits.server_queue().state() == (1, 0)


def _measured(runner: Runner, options: dict[str, Any], items: list[Any]) -> list[tuple[RunResult, float]]:
    """The runner's answer and the process's peak memory for each of ``items``: one input alone as always, several
    in one call (each with its share of the stages' time)."""
    with PeakMemory() as peak:
        results = [runner.run(items[0], **options)] if len(items) == 1 else split_result(runner.run(items, **options))
    return [(result, peak.peak_mb) for result in results]
