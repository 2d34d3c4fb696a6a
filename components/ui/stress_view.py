"""Stress-test view: perturb the input, compare each model's answer; robustness curves on the bundled set."""
from __future__ import annotations

from typing import Any

import streamlit as st

from components.catalog import CatalogEntry
from components.charts import robustness_curves
from components.datasets import load_bundled
from components.inputs import InputError
from components.runners.factory import CannotRun, create_runner
from components.stress import STRENGTHS, get_perturbation, perturb, perturbations_for, robustness_curve
from components.tasks import get_task
from components.ui.run import CardData, run_models
from components.ui.state import models_dir


def stress_section(models: list[CatalogEntry], task: str, inputs: Any, original: list[CardData] | None,
                   runtime: str = "eager") -> None:
    """Perturbation + strength -> each model's answer before and after; the robustness-curve button."""
    kind = get_task(task).input_kind
    st.subheader(":material/tune: Stress test — where does it break?")
    left, right = st.columns(2)
    name = left.selectbox("Perturbation", perturbations_for(kind), key=f"keep_stress_kind_{task}")
    st.session_state.setdefault(f"keep_stress_strength_{task}", 0.5)
    strength = right.slider("Strength", 0.0, 1.0, step=0.05, key=f"keep_stress_strength_{task}")
    st.caption(get_perturbation(kind, name).describe(strength))
    shaken = perturb(kind, name, inputs, strength)
    if kind == "image":
        st.image(shaken, width=240)
    answer, curve = st.columns(2)
    if answer.button("Run on the perturbed input", icon=":material/play_arrow:", key=f"stress_run_{task}",
                     disabled=not models):
        st.session_state[f"stress_results_{task}"] = (name, strength, run_models(models, task, shaken, runtime=runtime))
    if curve.button("Robustness curve", icon=":material/show_chart:", key=f"stress_curve_{task}",
                    disabled=not models, help="Runs the bundled labelled set at strengths "
                                              + ", ".join(f"{s:g}" for s in STRENGTHS)):
        st.session_state[f"stress_curves_{task}"] = (name, _curves(models, task, name, runtime))
    stored = st.session_state.get(f"stress_results_{task}")
    if stored is not None:
        st.markdown(f"**{stored[0]} at strength {stored[1]:g}**")
        st.dataframe(answer_changes(original or [], stored[2]), hide_index=True, width="stretch")
    curves = st.session_state.get(f"stress_curves_{task}")
    if curves is not None:
        _show_curves(task, *curves)


def answer_changes(before: list[CardData], after: list[CardData]) -> list[dict[str, Any]]:
    """One row per model: its top answer and confidence on the original and the perturbed input."""
    previous = {card.entry.id: card for card in before if card.result is not None}
    rows = []
    for card in after:
        if card.result is None:
            rows.append({"model": card.entry.name, "perturbed answer": card.error})
            continue
        top = card.result.output[0]
        row: dict[str, Any] = {"model": card.entry.name, "perturbed answer": top["label"],
                               "confidence": round(top["score"], 3)}
        if card.entry.id in previous:
            first = previous[card.entry.id].result.output[0]
            same = next((r["score"] for r in card.result.output if r["label"] == first["label"]), 0.0)
            row |= {"original answer": first["label"], "original confidence": round(first["score"], 3),
                    "change": round(same - first["score"], 3), "answer kept": top["label"] == first["label"]}
        rows.append(row)
    return rows


def _curves(models: list[CatalogEntry], task: str, name: str, runtime: str) -> dict[str, Any]:
    dataset = load_bundled(task)
    found: dict[str, Any] = {}
    bar = st.progress(0.0, text="Robustness curve…")
    total = len(models) * len(STRENGTHS) * len(dataset)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        bar.progress(min(done / total, 1.0), text=f"Robustness curve: {done}/{total} runs")

    for entry in models:
        try:
            runner = create_runner(entry, task, "real", runtime=runtime, extra_dir=models_dir())
            found[entry.name] = robustness_curve(runner, dataset, name, STRENGTHS, tick=tick)
        except (CannotRun, InputError) as exc:
            found[entry.name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - one model's failure is a message, the others still run
            found[entry.name] = f"failed: {type(exc).__name__}: {exc}"
    bar.empty()
    return found


def _show_curves(task: str, name: str, found: dict[str, Any]) -> None:
    metric = get_task(task).headline
    for model, points in found.items():
        if isinstance(points, str):
            st.error(f"{model}: {points}")
    curves = {model: points for model, points in found.items() if not isinstance(points, str)}
    if curves:
        st.plotly_chart(robustness_curves(curves, metric.key, metric.label, name), width="stretch",
                        config={"displayModeBar": False})
        st.caption(f"{metric.label} on the bundled labelled set ({len(load_bundled(task))} samples), "
                   f"every sample perturbed by {name} at each strength (seeded).")
