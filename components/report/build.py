"""One self-contained HTML report of a comparison or a playground run: data and figures in, an HTML string out.

The file opens in a browser with the network cut: plotly.js is inlined once (only when there is a chart),
images are ``data:`` URIs, fonts are the reader's own, no CDN, MathJax or link is ever loaded. Every chart
has its text alternative beside it: a one-line summary and its data as a table.

    python -m components.report (--history RUN_ID | --bench-json OUT.json) --out report.html [--title TEXT]

writes the report of a Compare run saved in the history (``MODEL_EXPLORER_HISTORY``) or of a
``python -m components.bench`` JSON file; one line on stdout says what went in; errors are one line on stderr.
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from components.core import CliError, description, fail
from components.viz import chart_rows, chart_summary

AUDIO_RATE = 16000
THUMBNAIL_PX = 320
SAMPLE_PX = 112
MAX_ROWS = 50  # rows of one output table
MAX_SAMPLES = 8  # evaluation samples shown in a Compare report
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}  # no logo: it links to plotly.com
ENV_KEYS = ("cpu", "cpu_flags", "cores", "torch_threads", "device", "gpu", "python", "platform", "torch",
            "transformers", "timm", "torchvision", "onnxruntime", "ctranslate2")
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2937;
max-width:1200px;margin:0 auto;padding:24px;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d1d5db}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d1d5db;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}.facts th{width:11rem;font-weight:600}
caption{text-align:left;font-weight:600;padding:4px 0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#4b5563}.card{border:1px solid #d1d5db;border-radius:8px;padding:12px 16px;margin:12px 0}
.error{color:#b91c1c}figure{margin:1rem 0}figcaption{color:#374151;font-size:.9rem}
.samples{display:flex;flex-wrap:wrap;gap:12px}.samples figure{margin:0;max-width:160px}
blockquote{border-left:4px solid #0072B2;margin:.5rem 0;padding:.2rem .8rem;background:#f9fafb}
.scroll{overflow-x:auto}
"""


@dataclass
class Chart:
    """A figure and, optionally, the words that say what it shows (else a generated summary)."""

    figure: go.Figure
    summary: str = ""


@dataclass
class ModelResult:
    """One playground card as plain data: the model, what its answer cost, the answer or why there is none."""

    name: str
    measures: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    error: str = ""
    charts: list[Chart] = field(default_factory=list)


@dataclass
class ReportInput:
    """What the models were given: an image (PIL), text lines, or an audio clip (float32, 16 kHz)."""

    description: str
    image: Any = None
    lines: Sequence[str] = ()
    audio: np.ndarray | None = None


# ---------------------------------------------------------------- small pieces

def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _cell(value: Any) -> tuple[str, bool]:
    """(text, numeric) of one table cell; a missing value is n/a, as on the page."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}", True
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}", True
    if isinstance(value, (list, tuple, dict)):
        text = json.dumps(value, default=str)
        return (text[:77] + "…") if len(text) > 80 else text, False
    return str(value), False


def table(rows: Sequence[dict[str, Any]], caption: str = "", most: int = MAX_ROWS) -> str:
    """An HTML table of ``rows`` (columns: the union of their keys, first seen first)."""
    if not rows:
        return ""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th scope=\"col\">{_e(c)}</th>" for c in columns)
    body = []
    for row in rows[:most]:
        cells = []
        for column in columns:
            text, numeric = _cell(row.get(column))
            cells.append(f"<td class=\"num\">{_e(text)}</td>" if numeric else f"<td>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class=\"meta\">… and {len(rows) - most} more rows.</p>" if len(rows) > most else ""
    title = f"<caption>{_e(caption)}</caption>" if caption else ""
    return (f"<div class=\"scroll\"><table>{title}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>{more}")


def facts_table(facts: dict[str, Any], caption: str = "") -> str:
    """One fact per row: its name as the row header, its value as written (no number formatting)."""
    rows = "".join(f"<tr><th scope=\"row\">{_e(key)}</th><td>{_e(value)}</td></tr>"
                   for key, value in facts.items() if value not in (None, ""))
    title = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f"<table class=\"facts\">{title}<tbody>{rows}</tbody></table>" if rows else ""


def image_data_uri(image: Any, max_px: int = THUMBNAIL_PX) -> str:
    """A thumbnail of a PIL image as a ``data:image/jpeg`` URI (PNG where it has transparency)."""
    thumb = image.copy()
    thumb.thumbnail((max_px, max_px))
    buffer = io.BytesIO()
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb.save(buffer, format="PNG", optimize=True)
        kind = "png"
    else:
        thumb.convert("RGB").save(buffer, format="JPEG", quality=85)
        kind = "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def _image(image: Any, caption: str, max_px: int = THUMBNAIL_PX) -> str:
    return (f"<figure><img src=\"{image_data_uri(image, max_px)}\" alt=\"{_e(caption)}\">"
            f"<figcaption>{_e(caption)}</figcaption></figure>")


class _Charts:
    """Writes figures into the report: plotly.js goes inline with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, chart: Chart) -> str:
        figure = go.Figure(chart.figure)
        figure.update_layout(template="plotly_white")  # not the app's template: its colours are placeholders
        plot = figure.to_html(include_plotlyjs=self.count == 0, full_html=False, include_mathjax=False,
                              config=PLOTLY_CONFIG)
        self.count += 1
        rows = chart_rows(chart.figure)
        data = f"<details><summary>Chart data</summary>{table(rows)}</details>" if rows else ""
        return (f"<figure class=\"chart\">{plot}<figcaption>{_e(chart.summary or chart_summary(chart.figure))}"
                f"</figcaption>{data}</figure>")


def output_html(output: Any) -> str:
    """A model's answer, whatever its shape: rows as a table, text as a quote, a dict part by part."""
    if output is None:
        return ""
    if isinstance(output, str):
        return f"<blockquote>{_e(output) or '<em>(empty)</em>'}</blockquote>"
    if isinstance(output, dict):
        parts, scalars = [], {}
        for key, value in output.items():
            if isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
                parts.append(table(list(value), caption=str(key)))
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, (list, tuple)) for v in value):
                parts.append(table([{"": f"#{i}", **{f"#{j}": v for j, v in enumerate(row, start=1)}}
                                    for i, row in enumerate(value, start=1)], caption=str(key)))
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
                items = "".join(f"<li>{_e(v)}</li>" for v in value[:MAX_ROWS])
                parts.append(f"<p>{_e(key)}:</p><ol>{items}</ol>")
            elif isinstance(value, str) and len(value) > 80:
                parts.append(f"<p>{_e(key)}:</p><blockquote>{_e(value)}</blockquote>")
            else:
                scalars[key] = _cell(value)[0]
        return (facts_table(scalars) if scalars else "") + "".join(parts)
    if isinstance(output, (list, tuple)) and output and all(isinstance(v, dict) for v in output):
        return table(list(output))
    return f"<p>{_e(_cell(output)[0])}</p>"


def environment_html(envs: Iterable[dict[str, Any]]) -> str:
    """The machine and library versions of each distinct environment the results were measured in."""
    distinct: list[dict[str, Any]] = []
    for env in envs:
        shown = {k: env[k] for k in ENV_KEYS if env.get(k) not in (None, "")}
        if shown and shown not in distinct:
            distinct.append(shown)
    if not distinct:
        return "<p class=\"meta\">No environment was recorded.</p>"
    return "".join(facts_table(env, caption=f"Environment {i}" if len(distinct) > 1 else "")
                   for i, env in enumerate(distinct, start=1))


def _sample_html(sample: Any, name: str) -> str:
    if hasattr(sample, "thumbnail"):  # a PIL image
        return _image(sample, name, SAMPLE_PX)
    if isinstance(sample, np.ndarray):
        return f"<figure><figcaption>{_e(name)}: {len(sample) / AUDIO_RATE:.1f} s audio clip</figcaption></figure>"
    text = " | ".join(sample) if isinstance(sample, (list, tuple)) else str(sample)
    return f"<figure><blockquote>{_e(text[:200])}</blockquote><figcaption>{_e(name)}</figcaption></figure>"


def _page(title: str, created: str, body: Sequence[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>{_e(title)}</h1><p class=\"meta\">Model Explorer report · {_e(created)}</p></header>"
            f"<main>{''.join(body)}</main></body></html>\n")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------- model facts

def entry_facts(entry: Any) -> dict[str, Any]:
    """What the catalog says about a model (a CatalogEntry); paper and source as text, never a link."""
    paper = f"{entry.paper.title} ({entry.paper.url})" if entry.paper.url else entry.paper.title
    source = f"{entry.source.kind}: {entry.source.name}" if entry.source.name else entry.source.kind
    reference = entry.reference_metric
    return {
        "Model": entry.name, "Family": entry.family, "Modality": entry.modality, "Year": entry.year,
        "Parameters": f"{entry.params / 1e6:.1f} M" if entry.params else entry.params_note or "n/a",
        "Licence": entry.license, "Access": entry.access, "Weights from": source, "Paper": paper,
        "Published": f"{reference.name} {reference.value:g} ({reference.source})" if reference else "",
        "About": entry.description,
    }


def catalog_facts(model_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Catalog facts for each id; an id missing from the catalog gets a line that says so."""
    from components.core import default_catalog, get_entry

    facts = {}
    for model_id in dict.fromkeys(model_ids):
        try:
            facts[model_id] = entry_facts(get_entry(model_id, default_catalog()))
        except KeyError:
            facts[model_id] = {"Model": model_id, "About": "not in this app's catalog"}
    return facts


# ---------------------------------------------------------------- the two reports

def compare_report(results: Sequence[dict[str, Any]], task: str, dataset: str,
                   charts: Sequence[Chart] | None = None, models: dict[str, dict[str, Any]] | None = None,
                   samples: Sequence[tuple[str, Any]] = (), settings: dict[str, Any] | None = None,
                   title: str = "", created: str = "", pair: tuple[int, int] | None = None) -> str:
    """The Compare report: the results table (95% intervals beside the figures), whether a ranking can be
    read, the paired comparison of ``pair`` (default: the best two rows), every chart with its data, the
    models' catalog facts, the evaluation set (a few samples), the settings and the environment."""
    from components.compare import compare_figures, int8_slower_notes, results_table

    results = list(results)
    charts = list(charts) if charts is not None else [Chart(f) for f in compare_figures(results)]
    models = models if models is not None else catalog_facts(r["model_id"] for r in results)
    rows = results_table(results).to_dict("records") if results else []
    write_chart = _Charts()
    body = [f"<p>Task <strong>{_e(task)}</strong> · evaluation set <strong>{_e(dataset)}</strong> · "
            f"{len(results)} result row(s)</p>",
            "<h2>Results</h2>", table(rows) or "<p>No results.</p>"]
    body += [f"<p class=\"meta\">{_e(note)}</p>" for note in int8_slower_notes(results)]
    body += paired_html(results, pair)
    if charts:
        body += ["<h2>Charts</h2>"] + [write_chart(chart) for chart in charts]
    body.append("<h2>Models</h2>")
    body += [facts_table(facts, caption=facts.get("Model", model_id)) for model_id, facts in models.items()]
    body.append("<h2>Evaluation set</h2>")
    counts = sorted({r.get("n_samples") for r in results if r.get("n_samples")})
    body.append(f"<p>{_e(dataset)}" + (f", {', '.join(map(str, counts))} samples evaluated" if counts else "")
                + ".</p>")
    if samples:
        body.append("<div class=\"samples\">" + "".join(_sample_html(s, n) for n, s in samples[:MAX_SAMPLES])
                    + "</div>")
    timed = sorted({len(r.get("latency_samples_ms") or ()) for r in results} - {0})
    settings = {"Timed runs per row": ", ".join(map(str, timed)), **(settings or {})}
    body += ["<h2>Settings</h2>", facts_table(settings)]
    body += ["<h2>Environment</h2>", environment_html(r.get("env") or {} for r in results)]
    return _page(title or f"Compare: {task}", created or _now(), body)


def paired_html(results: Sequence[dict[str, Any]], pair: tuple[int, int] | None = None) -> list[str]:
    """The no-ranking note and the paired comparison of two rows (default: the best two), as HTML."""
    from components.compare import best_two, paired_comparison, ranking_note

    results = list(results)
    note, pair = ranking_note(results), pair or best_two(results)
    out = [f"<p><strong>{_e(note)}</strong></p>"] if note else []
    if pair is not None:
        statements = paired_comparison(results[pair[0]], results[pair[1]])["statements"]
        out += ["<h2>Paired comparison</h2>"] + [f"<p>{_e(line)}</p>" for line in statements]
    return out


def playground_report(title: str, given: ReportInput, sections: Sequence[tuple[str, Sequence[ModelResult]]],
                      environment: dict[str, Any] | None = None, created: str = "") -> str:
    """A playground report: the input (a thumbnail, the text, a note for audio), then per task one card
    per model with its answer, what it cost, its charts and its catalog facts, then the environment."""
    write_chart = _Charts()
    body = ["<h2>Input</h2>"]
    if given.image is not None:
        body.append(_image(given.image, given.description))
    elif given.audio is not None:
        body.append(f"<p>{_e(given.description)}: {len(given.audio) / AUDIO_RATE:.1f} s of audio at "
                    f"{AUDIO_RATE // 1000} kHz (the sound itself is not in this file).</p>")
    else:
        body.append(f"<p>{_e(given.description)}</p>")
    if given.lines:
        body.append("<ol>" + "".join(f"<li>{_e(line)}</li>" for line in given.lines[:MAX_ROWS]) + "</ol>")
    for task, results in sections:
        body.append(f"<h2>{_e(task)}</h2>")
        for result in results:
            card = [f"<section class=\"card\"><h3>{_e(result.name)}</h3>"]
            if result.error:
                card.append(f"<p class=\"error\">{_e(result.error)}</p>")
            else:
                card.append(facts_table(result.measures))
                card += [write_chart(chart) for chart in result.charts]
                card.append(output_html(result.output))
            if result.facts:
                card.append(f"<details><summary>About {_e(result.name)}</summary>{facts_table(result.facts)}"
                            "</details>")
            body.append("".join(card) + "</section>")
    body += ["<h2>Environment</h2>", environment_html([environment or {}])]
    return _page(title, created or _now(), body)


# ---------------------------------------------------------------- CLI

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.report", description=description(__doc__))
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--history", type=int, metavar="RUN_ID", help="a Compare run saved in the history")
    source.add_argument("--bench-json", type=Path, metavar="OUT.json", help="the JSON of python -m components.bench")
    parser.add_argument("--out", required=True, type=Path, help="where to write the HTML file")
    parser.add_argument("--title", default="", help="the report's title (default: the task)")
    return parser.parse_args(argv)


def load_results(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str, str, dict[str, Any]]:
    """(results, task, dataset, settings) from the history or a bench JSON file."""
    if args.history is not None:
        from components.compare import HistoryStore

        run = HistoryStore().load_run(args.history)  # KeyError names the missing id
        settings = {"run": f"#{run['id']} saved {run['created_at']}", **run["meta"]}
        return run["results"], run["task"], run["dataset"], settings
    try:
        results = json.loads(args.bench_json.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {args.bench_json}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{args.bench_json} is not JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(results, list) or not all(isinstance(r, dict) and "model_id" in r for r in results):
        raise CliError(f"{args.bench_json} is not the output of python -m components.bench (a list of rows)")
    if not results:
        raise CliError(f"{args.bench_json} holds no results")
    return results, results[0].get("task", ""), results[0].get("dataset", ""), {}


def bundled_samples(task: str, dataset: str) -> list[tuple[str, Any]]:
    """A few samples of the bundled set (nothing for an uploaded set: only its name was kept)."""
    if dataset != "bundled":
        return []
    from components.datasets import DatasetError, load_bundled

    try:
        bundled = load_bundled(task)
    except (DatasetError, KeyError, ValueError):
        return []
    return [(bundled.ids[i], bundled.inputs[i]) for i in range(min(MAX_SAMPLES, len(bundled)))]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results, task, dataset, settings = load_results(args)
        if not results:
            raise CliError("the run holds no results")
        page = compare_report(results, task, dataset, samples=bundled_samples(task, dataset), settings=settings,
                              title=args.title)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(page, encoding="utf-8")
    except (CliError, KeyError, OSError, ValueError, KeyboardInterrupt) as exc:
        return fail(exc)
    models = ", ".join(dict.fromkeys(r["model_id"] for r in results))
    print(f"wrote {args.out} ({len(page.encode('utf-8')) / 2**20:.1f} MB): {task} on {dataset}, {models}")
    return 0

