"""Stress-test view, for any playground: perturb the input, set each model's answer on it beside its answer on
the original; robustness curves of the task's headline metric on its bundled labelled set."""
from __future__ import annotations

import hashlib
import time
from typing import Any

import streamlit as st

from components.core import (
    SPEECH_RECOGNITION,
    CatalogEntry,
    InputError,
    evaluation_tasks,
    get_task,
    limits,
    wav_bytes,
    word_error_rate,
)
from components.datasets import load_bundled
from components.explain import STRENGTHS, answers, get_perturbation, perturb, perturbations_for, robustness_curve
from components.models import CannotRun, create_runner, get_runtime
from components.ui.shell.server_files import models_dir
from components.ui.shell.share import STRESS_KIND, STRESS_STRENGTH
from components.ui.views.run import CardData, model_slot, refusal, run_models
from components.ui.widgets.chart import NO_MODE_BAR, show_chart
from components.ui.widgets.format import literal
from components.viz import robustness_curves

COLUMNS = ("model", "item", "original answer", "original confidence", "perturbed answer", "confidence", "change",
           "answer kept", "word error vs original")


def stress_section(models: list[CatalogEntry], task: str, inputs: Any, original: list[CardData] | None = None,
                   runtime: str = "eager", **options: Any) -> None:
    """Perturbation + strength -> each model's answer before and after; the robustness-curve button.

    ``inputs`` is what the page's runners take (a photo, the text lines, a 16 kHz clip); ``original`` the page's
    cards on it, where it has them (models without one run on the original too); ``options`` go to every run.
    """
    kind = get_task(task).input_kind
    st.subheader(":material/tune: Stress test — where does it break?")
    left, right = st.columns(2)
    name = STRESS_KIND.draw(left.selectbox, perturbations_for(kind), context={"task": task})
    st.session_state.setdefault(STRESS_STRENGTH.session_key(task=task), 0.5)
    strength = STRESS_STRENGTH.draw(right.slider, 0.0, 1.0, step=0.05, context={"task": task})
    st.caption(get_perturbation(kind, name).describe(strength))
    shaken = perturb(kind, name, inputs, strength)
    _show_input(kind, shaken)
    if not models:
        st.info("Select at least one model above to stress-test it.", icon=":material/info:")
    answer, curve = st.columns(2)
    results_key, here = f"stress_results_{task}", input_key(inputs, runtime, options)
    if answer.button("Run on the perturbed input", icon=":material/play_arrow:", key=f"stress_run_{task}",
                     disabled=not models):
        try:
            limits.check(limits.MAX_MODELS, len(models))
            with model_slot("The stress test"):  # one job: the original and the perturbed runs
                before = _originals(models, task, inputs, original, runtime, options)
                after = run_models(models, task, shaken, runtime=runtime, **options)
            st.session_state[results_key] = (here, name, strength, answer_changes(task, before, after), runtime)
        except limits.Refused as exc:
            refusal(exc)
    _curve_controls(curve, models, task, name, runtime)
    stored = st.session_state.get(results_key)
    if stored is not None:
        on = "" if stored[4] == "eager" else f" on {get_runtime(stored[4]).label}"  # eager: each engine's own
        st.markdown(f"**{stored[1]} at strength {stored[2]:g}**{on}")
        if stored[0] != here:
            same_input = stored[0] == input_key(inputs, stored[4], options)
            changed = "runtime" if same_input else "input" if stored[4] == runtime else "input and runtime"
            st.caption(f"The {changed} changed since this stress run: press Run on the perturbed input to refresh.")
        st.dataframe(stored[3], hide_index=True, width="stretch", column_config=_column_help())
    _show_curves(task)


def _column_help() -> dict[str, Any]:
    return {"item": st.column_config.TextColumn(help="What was answered: the photo, a line (its closest line, for "
                                                     "similarity), the query, the clip"),
            "change": st.column_config.NumberColumn(help="The model's score for its original answer, perturbed minus "
                                                         "original (empty where it gives that answer no score)"),
            "answer kept": st.column_config.CheckboxColumn(help="The same answer on the perturbed input"),
            "word error vs original": st.column_config.NumberColumn(
                help="Word error rate of the perturbed transcript against the original one")}


def input_key(inputs: Any, runtime: str, options: dict[str, Any]) -> str:
    """A short key for an input's content, the runtime and the run options (a change of any marks a stored
    stress run stale)."""
    digest = hashlib.blake2b(digest_size=8)
    if isinstance(inputs, (list, tuple)):
        digest.update("\n".join(map(str, inputs)).encode())
    else:
        digest.update(inputs.tobytes())  # a PIL image or a numpy clip
    digest.update(repr((runtime, sorted(options.items()))).encode())
    return digest.hexdigest()


def _show_input(kind: str, shaken: Any) -> None:
    if kind == "image":
        st.image(shaken, width=240, caption="The perturbed input the models see")
    elif kind == "text":
        st.code("\n".join(shaken), language=None, wrap_lines=True)
    else:
        st.audio(wav_bytes(shaken), format="audio/wav")


def _originals(models: list[CatalogEntry], task: str, inputs: Any, original: list[CardData] | None,
               runtime: str, options: dict[str, Any]) -> list[CardData]:
    """The page's cards on the original input on this runtime, plus a run on it of every model that has none
    (cards of another runtime are not compared with answers on this one)."""
    have = {card.entry.id: card for card in original or []
            if card.result is not None and card.result.runtime == runtime}
    missing = [entry for entry in models if entry.id not in have]
    return list(have.values()) + (run_models(missing, task, inputs, runtime=runtime, **options) if missing else [])


def answer_changes(task: str, before: list[CardData], after: list[CardData]) -> list[dict[str, Any]]:
    """One row per model and item (the photo, each line, the clip): its answer and confidence on the original
    and on the perturbed input; the change of its confidence in the original answer; whether it kept it."""
    previous = {card.entry.id: card for card in before}
    rows = []
    for card in after:
        if card.result is None:
            rows.append({"model": card.entry.name, "perturbed answer": card.error})
            continue
        first = previous.get(card.entry.id)
        old = {a.item: a for a in answers(task, first.result.output)} if first and first.result else {}
        for new in answers(task, card.result.output):
            row: dict[str, Any] = {"model": card.entry.name, "item": new.item, "perturbed answer": new.answer,
                                   "confidence": _rounded(new.confidence)}
            was = old.get(new.item)
            if was is not None:
                kept = new.scores.get(was.answer)
                row |= {"original answer": was.answer, "original confidence": _rounded(was.confidence),
                        "change": _rounded(None if kept is None or was.confidence is None else kept - was.confidence),
                        "answer kept": new.answer == was.answer}
                if task == SPEECH_RECOGNITION:
                    row["word error vs original"] = _word_error(was.answer, new.answer)
            elif first is not None and first.result is None:
                row["original answer"] = first.error
            rows.append(row)
    return _tidy(rows)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _word_error(reference: str, hypothesis: str) -> float | None:
    try:
        return round(word_error_rate([reference], [hypothesis]), 3)
    except ValueError:  # the original transcript is empty: no rate against it
        return None


def _tidy(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in one column order, without columns no row fills (nor "item" when it names one thing)."""
    keep = [c for c in COLUMNS if any(row.get(c) is not None for row in rows)]
    if len({row.get("item") for row in rows}) <= 1 and "item" in keep:
        keep.remove("item")
    return [{c: row.get(c) for c in keep} for row in rows]


# ---------------------------------------------------------------- robustness curves

def _curve_controls(column: Any, models: list[CatalogEntry], task: str, name: str, runtime: str) -> None:
    kind = get_task(task).input_kind
    if get_task(task).evaluation is None:
        others = [t for t in evaluation_tasks() if get_task(t).input_kind == kind]
        column.info(f"No robustness curve for {task}: it has no bundled labelled set"
                    + (f" (these {kind} tasks have one: {', '.join(others)})." if others else "."),
                    icon=":material/info:")
        return
    if column.button("Robustness curve", icon=":material/show_chart:", key=f"stress_curve_{task}",
                     disabled=not models, help="Runs every sample of the bundled labelled set at strengths "
                     + ", ".join(f"{s:g}" for s in STRENGTHS) + " with every selected model"
                     + (" (minutes for speech)." if kind == "audio" else ".")):
        stop = column.empty()
        stop.button("Cancel", icon=":material/stop:", key=f"stress_cancel_{task}",
                    help="Stops after the current sample; finished models are kept.")
        try:
            limits.check(limits.MAX_MODELS, len(models))
            with model_slot("The robustness curve"):
                _curves(models, task, name, runtime)
        except limits.Refused as exc:
            refusal(exc)
        stop.empty()


def _curves(models: list[CatalogEntry], task: str, name: str, runtime: str) -> None:
    """Each model's curve, stored as it finishes (a Cancel or a page change keeps the finished ones)."""
    dataset = load_bundled(task)
    found: dict[str, Any] = {}
    state = {"name": name, "found": found, "models": len(models), "samples": len(dataset), "finished": False}
    st.session_state[f"stress_curves_{task}"] = state
    bar = st.progress(0.0, text="Robustness curve…")
    total, done, started = len(models) * len(STRENGTHS) * len(dataset), 0, time.perf_counter()

    def tick(n: int) -> None:
        nonlocal done
        if time.perf_counter() - started > limits.MAX_RUN_S.value():
            raise limits.Refused(f"Stopped after {limits.MAX_RUN_S.value()} s, the longest run this server allows "
                                 f"({limits.MAX_RUN_S.env} raises it).")
        done += n
        elapsed = time.perf_counter() - started
        left = f" · about {elapsed * (total - done) / done:.0f} s left" if done else ""
        bar.progress(min(done / total, 1.0), text=f"Robustness curve: {done}/{total} runs{left}")

    for entry in models:
        try:
            runner = create_runner(entry, task, "real", runtime=runtime, extra_dir=models_dir())
            found[entry.name] = robustness_curve(runner, dataset, name, STRENGTHS, tick=tick)
        except limits.Refused as exc:  # past the wall-clock limit: the finished curves stay
            found[entry.name] = str(exc)
            break
        except (CannotRun, InputError) as exc:
            found[entry.name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - one model's failure is a message, the others still run
            found[entry.name] = f"failed: {type(exc).__name__}: {exc}"
    state["finished"] = True
    bar.empty()


def _show_curves(task: str) -> None:
    state = st.session_state.get(f"stress_curves_{task}")
    if state is None:
        return
    found, metric = state["found"], get_task(task).headline
    if not state["finished"]:
        st.warning(f"The robustness curve stopped before the end (Cancel, or the page changed): "
                   f"{len(found)} of {state['models']} model(s) finished.", icon=":material/stop:")
    for model, points in found.items():
        if isinstance(points, str):
            st.error(literal(f"{model}: {points}"))
    curves = {model: points for model, points in found.items() if not isinstance(points, str)}
    if curves:
        show_chart(robustness_curves(curves, metric.key, metric.label, state["name"]), config=NO_MODE_BAR)
        better = "higher" if metric.higher_is_better else "lower"
        st.caption(f"{metric.label} ({better} is better) on the bundled labelled set "
                   f"({state['samples']} samples), every sample perturbed by {state['name']} at each "
                   f"strength (seeded).")
