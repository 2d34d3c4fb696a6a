"""Download buttons that hand out a one-file HTML report (components.report.build) of what a page shows.

The report is built only when the button is pressed (Streamlit runs the callable then), so a rerun costs
nothing; pressing it does not rerun the page.
"""
from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from typing import Any

import streamlit as st

from components.models import runtime_shown
from components.report import (
    MAX_SAMPLES,
    Chart,
    ModelResult,
    ReportInput,
    compare_report,
    entry_facts,
    playground_report,
)
from components.ui.views.run import CardData
from components.ui.widgets.format import format_latency_ms
from components.ui.widgets.inputs import current_raw

HELP = ("One self-contained HTML file: opens in any browser, with the network cut. Interactive charts with "
        "their data tables, the input, each model's answer and cost, the models' facts and the environment.")


def _download(label: str, build, file_name: str, key: str) -> None:
    st.download_button(label, data=build, file_name=file_name, mime="text/html", key=key, on_click="ignore",
                       icon=":material/description:", help=HELP)


# ---------------------------------------------------------------- Compare

def compare_report_button(results: Sequence[dict[str, Any]], task: str, dataset: Any,
                          pair: tuple[int, int] | None = None, key: str = "cmp_report") -> None:
    """The Compare page's report: its rows (overlaid runs included), charts, models, set and environment, and
    the paired comparison of ``pair`` (the rows picked on the page; None: the best two).

    The set is the one the rows name (a resumed or overlaid run may differ from the page's selection);
    ``dataset``, the page's current set, lends its samples only when it is that set.
    """
    rows = [dict(r) for r in results]
    name = rows_set_name(rows)
    _download("Download report",
              lambda: compare_report(rows, task, name, samples=set_samples(dataset, name), pair=pair),
              f"compare-{task}.html", key)


def rows_set_name(rows: Sequence[dict[str, Any]]) -> str:
    """The evaluation set(s) the rows were measured on, as the rows name them, in order of appearance."""
    return ", ".join(dict.fromkeys(str(r["dataset"]) for r in rows if r.get("dataset")))


def set_samples(dataset: Any, name: str) -> list[tuple[str, Any]]:
    """A few (id, input) samples of ``dataset`` if it is the set named ``name``; none otherwise."""
    if dataset is None or dataset.source != name:
        return []
    return [(dataset.ids[i], dataset.inputs[i]) for i in range(min(MAX_SAMPLES, len(dataset)))]


# ---------------------------------------------------------------- playgrounds

def image_given(key: str, image: Any, note: str = "") -> ReportInput:
    """The playground's current image, named as the user gave it."""
    raw = current_raw(key)
    name = raw.name if raw is not None else "image"
    extra = f" · {note}" if note else ""
    return ReportInput(f"{name}, {image.width}×{image.height} pixels{extra}", image=image)


def audio_given(key: str, audio: Any) -> ReportInput:
    raw = current_raw(key)
    return ReportInput(raw.name if raw is not None else "audio clip", audio=audio)


def text_given(lines: Sequence[str], note: str = "") -> ReportInput:
    return ReportInput(note or "The text, one line per sentence", lines=list(lines))


def card_charts(output: Any) -> list[Chart]:
    """The charts a card draws for this kind of answer: ranked scores, or a similarity matrix."""
    from components.viz import ranked_bars, similarity_heatmap

    if isinstance(output, list) and output and isinstance(output[0], dict) and {"label", "score"} <= set(output[0]):
        return [Chart(ranked_bars(output[:5]))]
    if not isinstance(output, dict):
        return []
    charts = []
    if output.get("labels") and isinstance(output["labels"][0], dict):
        charts.append(Chart(ranked_bars(output["labels"][:8])))
    if output.get("ranking"):
        charts.append(Chart(ranked_bars([{"label": r["text"][:60], "score": r["score"]}
                                         for r in output["ranking"][:5]], percent=False)))
    if output.get("matrix") and output.get("sentences"):
        charts.append(Chart(similarity_heatmap(output["sentences"], output["matrix"])))
    return charts


def model_result(card: CardData) -> ModelResult:
    """A card as plain data for the report."""
    facts = entry_facts(card.entry)
    if card.result is None:
        return ModelResult(card.entry.name, {}, facts, error=card.error or "No result.")
    result = card.result
    measures = {
        "Latency": format_latency_ms(result.latency_ms),
        "Stages": " · ".join(f"{k} {format_latency_ms(v)}" for k, v in result.stages_ms.items()),
        "Peak memory (process)": f"{card.peak_rss_mb:.0f} MB", "Device": result.device,
        "Runtime": runtime_shown(card.entry, result.task, result.weights, result.runtime),
        "Weights": result.weights,
        "Load": "loaded for this run" if card.loaded_now else "already loaded",
    }
    return ModelResult(card.entry.name, measures, facts, output=result.output, charts=card_charts(result.output))


def _environment(device: str) -> dict[str, Any]:
    """What the answers were computed on (torch's figures only where torch is already imported)."""
    if "torch" in sys.modules:
        from components.models import environment

        return environment(device)
    from components.models import cpu_model

    return {"cpu": cpu_model(), "device": device, "python": platform.python_version(),
            "platform": platform.platform()}


def playground_report_button(page: str, given: ReportInput, sections: Sequence[tuple[str, Sequence[CardData]]],
                             key: str) -> None:
    """A playground's report: the input, then each model's answer and cost, per task."""
    cards = [(task, list(task_cards)) for task, task_cards in sections]
    device = next((c.result.device for _, group in cards for c in group if c.result), "cpu")

    def build() -> str:
        return playground_report(page, given, [(task, [model_result(c) for c in group]) for task, group in cards],
                                 environment=_environment(device))

    _download("Download report", build, f"{page.lower().replace(' ', '-')}.html", key)
