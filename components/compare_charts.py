"""Plotly figures for the Compare page: pure functions from benchmark result dicts to figures."""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from components.charts import BLUE, GREY, ORANGE, PALETTE, PURPLE, VERMILLION
from components.tasks import TASKS

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=380, colorway=list(PALETTE))
RUNTIME_COLORS = {"eager": GREY, "onnx": BLUE, "onnx-int8": ORANGE}


def headline(task: str) -> tuple[str, str, bool]:
    """(metric key, label, higher is better) of the task's headline metric; blanks if it has none."""
    spec = TASKS.get(task)
    metric = spec.headline if spec else None
    return (metric.key, metric.label, metric.higher_is_better) if metric else ("", "", True)


def label(result: dict[str, Any]) -> str:
    """A row's name in charts: the model, its weights, its runtime, and its run when overlaid from history."""
    name = result.get("model_name") or result["model_id"]
    if result.get("weights") == "random":
        name += " (random weights)"
    if result.get("runtime", "eager") != "eager":
        name += f" · {result['runtime']}"
    if result.get("run_label"):
        name += f" · {result['run_label']}"
    return name


def results_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """The results table: one row per model, the figures a reader compares."""
    rows = []
    for r in results:
        metric_key, metric_label, _ = headline(r["task"])
        metrics = r.get("metrics") or {}
        reference = r.get("reference_metric") or {}
        eager = _eager_row(r, results)
        agreed = r.get("agreement") or {}
        rows.append({
            "Model": label(r), "Weights": r["weights"], "Runtime": r.get("runtime", "eager"),
            metric_label or "Metric": metrics.get(metric_key) if metrics else None,
            "Other metrics": ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()
                                       if k != metric_key and v is not None) or r.get("metrics_note", ""),
            "Samples": r.get("n_samples"),
            "p50 ms": r["latency_ms"].get("p50"), "p90 ms": r["latency_ms"].get("p90"),
            "p99 ms": r["latency_ms"].get("p99"),
            "Items/s (batch 1)": (r.get("throughput") or {}).get("1"),
            "Peak RSS MB": r.get("peak_rss_mb"), "Params (M)": (r["params"] or 0) / 1e6 or None,
            "Params from": r.get("params_source", ""),
            "GFLOPs": (r["flops"] / 1e9) if r.get("flops") else None,
            "Size MB": r.get("size_mb"), "Load s": r.get("load_s"), "Device": r.get("device"),
            "Published": f"{reference['name']} {reference['value']:g}" if reference else "",
            "Speed-up vs eager": eager["latency_ms"]["p50"] / r["latency_ms"]["p50"] if eager else None,
            "Agreement with eager": f"{agreed['value']:.3f} ({agreed['basis']}, n={agreed['n']})" if agreed else "",
        })
    return pd.DataFrame(rows)


def latency_distribution(results: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    for r in results:
        fig.add_trace(go.Box(y=r["latency_samples_ms"], name=label(r), boxpoints="all", jitter=0.4,
                             pointpos=0, marker_size=4))
    fig.update_layout(title="Latency per call (ms), one dot per timed run", yaxis_title="ms",
                      showlegend=False, **LAYOUT)
    return fig


def pareto_front(points: list[tuple[float, float]], higher_is_better: bool) -> list[int]:
    """Indices of points not dominated by any other (lower latency and better metric)."""
    front = []
    for i, (lat_i, met_i) in enumerate(points):
        dominated = any(
            lat_j <= lat_i and (met_j >= met_i if higher_is_better else met_j <= met_i)
            and (lat_j, met_j) != (lat_i, met_i)
            for j, (lat_j, met_j) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def accuracy_vs_latency(results: list[dict[str, Any]]) -> go.Figure | None:
    """Scatter of the task metric against p50 latency, with the Pareto frontier drawn; None if no metric."""
    if not results:
        return None
    key, metric_label, higher = headline(results[0]["task"])
    rows = [r for r in results if (r.get("metrics") or {}).get(key) is not None]
    if not rows:
        return None
    points = [(r["latency_ms"]["p50"], r["metrics"][key]) for r in rows]
    front = pareto_front(points, higher)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="markers+text",
                             text=[label(r) for r in rows], textposition="top center",
                             marker=dict(size=[max(8, min(40, (r["params"] or 0) / 1e6)) for r in rows],
                                         color=BLUE, opacity=0.7), name="models"))
    fig.add_trace(go.Scatter(x=[points[i][0] for i in front], y=[points[i][1] for i in front],
                             mode="lines", line=dict(color=VERMILLION, dash="dash"), name="Pareto frontier"))
    fig.update_layout(title=f"{metric_label} vs latency ({'up' if higher else 'down'}-left is better; "
                            f"size ~ params)",
                      xaxis_title="p50 latency (ms)", yaxis_title=metric_label, **LAYOUT)
    return fig


def memory_and_size(results: list[dict[str, Any]]) -> go.Figure:
    names = [label(r) for r in results]
    fig = go.Figure([
        go.Bar(name="Peak process RSS (MB)", x=names, y=[r["peak_rss_mb"] for r in results]),
        go.Bar(name="Model size (MB)", x=names, y=[r["size_mb"] for r in results]),
    ])
    fig.update_layout(barmode="group", title="Memory and size", yaxis_title="MB", **LAYOUT)
    return fig


def throughput_by_batch(results: list[dict[str, Any]]) -> go.Figure | None:
    rows = [(label(r), int(b), v) for r in results for b, v in (r.get("throughput") or {}).items()]
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["model", "batch size", "items per second"]).sort_values("batch size")
    fig = px.line(frame, x="batch size", y="items per second", color="model", markers=True, log_x=True,
                  color_discrete_sequence=list(PALETTE))
    sizes = sorted(frame["batch size"].unique())
    fig.update_xaxes(tickvals=sizes, ticktext=[str(s) for s in sizes])
    fig.update_layout(title="Throughput vs batch size", **LAYOUT)
    return fig


def published_vs_measured(results: list[dict[str, Any]]) -> go.Figure | None:
    """Each model's published reference metric beside the one measured here (same scale)."""
    rows = []
    for r in results:
        reference = r.get("reference_metric") or {}
        key, metric_label, _ = headline(r["task"])
        measured = (r.get("metrics") or {}).get(key)
        if reference and measured is not None and r["task"] == "image-classification" \
                and "top-1" in reference.get("name", "").lower():
            rows.append((label(r), reference["value"], measured * 100))
    if not rows:
        return None
    fig = go.Figure([
        go.Bar(name="Published ImageNet top-1 (%)", x=[r[0] for r in rows], y=[r[1] for r in rows]),
        go.Bar(name="Measured top-1 here (%)", x=[r[0] for r in rows], y=[r[2] for r in rows]),
    ])
    fig.update_layout(barmode="group", title="Published vs measured (the bundled set is tiny: expect noise)",
                      yaxis_title="%", **LAYOUT)
    return fig


def _eager_row(result: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The eager row of the same model, weights and run, for a row on another runtime."""
    if result.get("runtime", "eager") == "eager":
        return None
    return next((r for r in results if r.get("runtime", "eager") == "eager" and r["model_id"] == result["model_id"]
                 and r["weights"] == result["weights"] and r.get("run_label") == result.get("run_label")), None)


def runtime_comparison(results: list[dict[str, Any]]) -> go.Figure | None:
    """Per (model, runtime): speed-up of p50 latency over eager, size on disk, agreement with eager and
    the change in the headline metric; None unless some row runs on another runtime than eager."""
    rows = [(r, _eager_row(r, results)) for r in results]
    rows = [(r, e) for r, e in rows if e is not None]
    if not rows:
        return None
    from plotly.subplots import make_subplots

    key, metric_label, _ = headline(rows[0][0]["task"])
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, subplot_titles=(
        "Speed-up over eager (p50, x)", "Size on disk (MB)", "Agreement with eager"))
    for runtime in dict.fromkeys(r["runtime"] for r, _ in rows):
        color = RUNTIME_COLORS.get(runtime, PURPLE)
        chosen = [(r, e) for r, e in rows if r["runtime"] == runtime]
        names = [label(dict(r, runtime="eager")) for r, _ in chosen]
        deltas = [_delta(r, e, key) for r, e in chosen]
        fig.add_trace(go.Bar(name=runtime, x=names, y=[e["latency_ms"]["p50"] / r["latency_ms"]["p50"]
                                                       for r, e in chosen], legendgroup=runtime,
                             marker_color=color), 1, 1)
        fig.add_trace(go.Bar(name=runtime, x=names, y=[r["size_mb"] for r, _ in chosen], legendgroup=runtime,
                             showlegend=False, marker_color=color), 1, 2)
        fig.add_trace(go.Bar(name=runtime, x=names, y=[(r.get("agreement") or {}).get("value") for r, _ in chosen],
                             legendgroup=runtime, showlegend=False, marker_color=color,
                             customdata=[[(r.get("agreement") or {}).get("basis", ""), d] for (r, _), d in
                                         zip(chosen, deltas)],
                             hovertemplate="%{x}: %{y:.3f} (%{customdata[0]})<br>"
                                           f"{metric_label or 'metric'} change vs eager: %{{customdata[1]}}"
                                           "<extra></extra>"), 1, 3)
    eager_sizes = {label(dict(e, runtime="eager")): e["size_mb"] for _, e in rows}
    fig.add_trace(go.Bar(name="eager", x=list(eager_sizes), y=list(eager_sizes.values()), legendgroup="eager",
                         marker_color=RUNTIME_COLORS["eager"]), 1, 2)
    fig.add_hline(y=1.0, line_dash="dot", line_color=GREY, row=1, col=1)
    fig.update_layout(barmode="group", title="Runtimes: the same model on eager PyTorch and ONNX Runtime",
                      **dict(LAYOUT, height=440, margin=dict(l=10, r=10, t=80, b=10)))
    return fig


def _delta(result: dict[str, Any], eager: dict[str, Any], key: str) -> str:
    new, old = (result.get("metrics") or {}).get(key), (eager.get("metrics") or {}).get(key)
    return f"{new - old:+.3f}" if new is not None and old is not None else "n/a"


def int8_slower_notes(results: list[dict[str, Any]]) -> list[str]:
    """A sentence for each model whose int8 row ran slower than its fp32 ONNX row on this CPU."""
    notes = []
    for r in results:
        if r.get("runtime") != "onnx-int8":
            continue
        fp32 = next((o for o in results if o.get("runtime") == "onnx" and o["model_id"] == r["model_id"]
                     and o["weights"] == r["weights"] and o.get("run_label") == r.get("run_label")), None)
        if fp32 and r["latency_ms"]["p50"] > fp32["latency_ms"]["p50"]:
            flags = (r.get("env") or {}).get("cpu_flags", "n/a")
            notes.append(f"{label(dict(r, runtime='eager'))}: int8 ran slower than fp32 on this CPU "
                         f"({r['latency_ms']['p50']:.3g} vs {fp32['latency_ms']['p50']:.3g} ms p50; CPU features: "
                         f"{flags}). int8 pays off where the CPU has VNNI / AMX and the model is MatMul-bound.")
    return notes


def compare_figures(results: list[dict[str, Any]]) -> list[go.Figure]:
    """Every Compare chart that has something to show for ``results``, in the page's order."""
    figures = [accuracy_vs_latency(results), latency_distribution(results), memory_and_size(results),
               throughput_by_batch(results), published_vs_measured(results), runtime_comparison(results)]
    return [f for f in figures if f is not None]
