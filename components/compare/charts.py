"""Plotly figures for the Compare page: pure functions from benchmark result dicts to figures."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from components.core import IMAGE_CLASSIFICATION, MIN_RUNS_95, TASKS, all_overlap, paired_rows
from components.viz import BLUE, GREY, ORANGE, PALETTE, PURPLE, VERMILLION, label_positions, visible_labels

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=380, colorway=list(PALETTE))
RUNTIME_COLORS = {"eager": GREY, "onnx": BLUE, "onnx-int8": ORANGE}
TABLE_FORMATS = {"Samples": "%d", "p50 ms": "%.1f", "p90 ms": "%.1f", "p99 ms": "%.1f", "Items/s (batch 1)": "%.1f",
                 "Peak RSS MB": "%.1f", "Params (M)": "%.2f", "GFLOPs": "%.2f", "Size MB": "%.1f", "Load s": "%.2f",
                 "Speed-up vs eager": "%.2fx"}  # printf formats of the results table; other numbers: metrics
RUN_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "pentagon", "star")  # a marker per overlaid run
RUN_COLORS = tuple(c for c in PALETTE if c != VERMILLION)  # vermillion draws the Pareto frontier
LINE_DASHES = ("solid", "dash", "dot", "dashdot")  # with the 8 colours: 32 lines, each its own pair
LINE_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "pentagon")  # 7: prime to the 8 colours
NO_RANKING = "Every interval of the headline metric overlaps: no ranking by it can be read from these points."


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


def metric_ci(result: dict[str, Any], key: str) -> list[float] | None:
    """A row's 95% interval of metric ``key`` (None for rows without one, e.g. from older runs)."""
    return (result.get("metrics_ci") or {}).get(key)


def latency_ci(result: dict[str, Any]) -> list[float] | None:
    """A row's 95% interval of p50 latency (order statistics of its timed runs; a bootstrap in older runs)."""
    return (result.get("latency_ci") or {}).get("p50")


def latency_ci_text(result: dict[str, Any]) -> str:
    """The p50 interval as table text; with fewer timed runs than a 95% interval needs, says so."""
    interval = latency_ci(result)
    if interval is None and 0 < len(result.get("latency_samples_ms") or []) < MIN_RUNS_95:
        return f"n/a: under {MIN_RUNS_95} timed runs"
    return interval_text(interval, 1)


def interval_text(interval: Sequence[float] | None, digits: int = 3) -> str:
    return f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]" if interval else ""


def results_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """The results table: one row per model, the figures a reader compares, each metric and p50 with its
    95% interval; a figure a row lacks is None (the page and the report show it as n/a)."""
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
            "95% interval": interval_text(metric_ci(r, metric_key)) or None,
            "Other metrics": ", ".join(f"{k} {v:.3f} {interval_text(metric_ci(r, k))}".strip()
                                       for k, v in metrics.items() if k != metric_key and v is not None)
                             or r.get("metrics_note", ""),
            "Samples": r.get("n_samples"),
            "p50 ms": r["latency_ms"].get("p50"), "p50 95% interval": latency_ci_text(r) or None,
            "p90 ms": r["latency_ms"].get("p90"),
            "p99 ms": r["latency_ms"].get("p99"),
            "Items/s (batch 1)": (r.get("throughput") or {}).get("1"),
            "Peak RSS MB": r.get("peak_rss_mb"), "Params (M)": (r["params"] or 0) / 1e6 or None,
            "Params from": r.get("params_source", ""),
            "GFLOPs": (r["flops"] / 1e9) if r.get("flops") else None,
            "Size MB": r.get("size_mb"), "Load s": r.get("load_s"), "Device": r.get("device"),
            "Published": f"{reference['name']} {reference['value']:g}" if reference else None,
            "Speed-up vs eager": eager["latency_ms"]["p50"] / r["latency_ms"]["p50"] if eager else None,
            "Agreement with eager": f"{agreed['value']:.3f} ({agreed['basis']}, n={agreed['n']})" if agreed else None,
            "Agreement 95% interval": interval_text(r.get("agreement_ci")) or None,
        })
    return pd.DataFrame(rows)


def table_formats(table: pd.DataFrame) -> dict[str, str]:
    """A printf format for every number column of :func:`results_table` (for the page's column_config):
    milliseconds, megabytes and rates with one decimal, parameters, GFLOPs and seconds with two, counts
    whole, the speed-up as a factor, and metrics (the headline column) with three decimals."""
    return {column: TABLE_FORMATS.get(column, "%.3f") for column in table.columns
            if pd.api.types.is_numeric_dtype(table[column])}


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
    """Scatter of the task metric against p50 latency, with the Pareto frontier drawn; None if no metric.

    One trace per run (overlaid history runs get their own marker); a point's text is its model and runtime,
    once per (model, weights, runtime): the run is in the legend and the full name in the hover. Both axes
    are padded so labels fit, a metric within [0, 1] stays within [0, 1.05], and labels are placed so they
    neither leave the plot nor cover each other (:func:`label_positions`); where there is no room for them all
    (many models close together) the labels that would still overlap are left off, the Pareto front's kept
    first, and the title says how many (:func:`visible_labels`): their points are named in the hover."""
    if not results:
        return None
    key, metric_label, higher = headline(results[0]["task"])
    rows = [r for r in results if (r.get("metrics") or {}).get(key) is not None]
    if not rows:
        return None
    points = [(r["latency_ms"]["p50"], r["metrics"][key]) for r in rows]
    x_cis, y_cis = [latency_ci(r) for r in rows], [metric_ci(r, key) for r in rows]
    x_range = axis_range([p[0] for p in points] + [x for ci in x_cis if ci for x in ci], 0.12, floor=0.0)
    y_range = metric_range([p[1] for p in points] + [y for ci in y_cis if ci for y in ci])
    sizes = [max(8, min(40, (r["params"] or 0) / 1e6)) for r in rows]
    shown, seen = [], set()
    for r in rows:  # a model's label once, on its first run: its other runs sit beside it
        name = (r["model_id"], r["weights"], r.get("runtime", "eager"))
        shown.append("" if name in seen else label(dict(r, run_label=None)))
        seen.add(name)
    front = pareto_front(points, higher)
    positions = label_positions(points, sizes, shown, x_range, y_range)
    drawn = visible_labels(points, sizes, shown, positions, x_range, y_range, first=front)
    hidden = sum(map(bool, shown)) - sum(map(bool, drawn))
    fig = go.Figure()
    runs = list(dict.fromkeys(r.get("run_label") or "this run" for r in rows))
    for n, run in enumerate(runs):
        picked = [i for i, r in enumerate(rows) if (r.get("run_label") or "this run") == run]
        fig.add_trace(go.Scatter(
            x=[points[i][0] for i in picked], y=[points[i][1] for i in picked], mode="markers+text",
            text=[label(rows[i]) for i in picked], customdata=[drawn[i] for i in picked],
            texttemplate="%{customdata}", textposition=[positions[i] for i in picked], textfont_size=11,
            hovertemplate=f"%{{text}}<br>p50 %{{x:.3g}} ms · {metric_label} %{{y:.3f}}<extra></extra>",
            cliponaxis=False, name=run if len(runs) > 1 else "models",
            error_x=error_bars([points[i][0] for i in picked], [x_cis[i] for i in picked]),
            error_y=error_bars([points[i][1] for i in picked], [y_cis[i] for i in picked]),
            marker=dict(size=[sizes[i] for i in picked], symbol=RUN_SYMBOLS[n % len(RUN_SYMBOLS)],
                        color=RUN_COLORS[n % len(RUN_COLORS)], opacity=0.7)))
    fig.add_trace(go.Scatter(x=[points[i][0] for i in front], y=[points[i][1] for i in front],  # a one-point
                             mode="lines+markers", line=dict(color=VERMILLION, dash="dash"),  # front is a mark
                             marker=dict(color=VERMILLION, size=14, symbol="diamond-open", line_width=2),
                             hoverinfo="skip",
                             name="Pareto frontier"))
    near = near_front(front, points, x_cis, y_cis, higher)
    if near:
        fig.add_trace(go.Scatter(x=[points[i][0] for i in near], y=[points[i][1] for i in near], mode="markers",
                                 marker=dict(symbol="circle-open", size=[sizes[i] + 10 for i in near],
                                             color=VERMILLION, line_width=2), hoverinfo="skip",
                                 name="could be on the frontier (no frontier point clearly beats it)"))
    if all_overlap(y_cis):
        fig.add_annotation(text=NO_RANKING.replace(": ", ":<br>"),  # two lines: it fits a half-width chart
                           xref="paper", yref="paper", x=0.01, y=0.99, xanchor="left",
                           yanchor="top", showarrow=False, font=dict(color=VERMILLION, size=12),
                           bgcolor="rgba(255,255,255,0.8)")
    fig.update_layout(title=f"{metric_label} vs latency ({'up' if higher else 'down'}-left is better; "
                            f"size ~ params)" + (f"<br><sup>{hidden} label(s) left off where they would overlap: "
                                                 "hover a point for its name</sup>" if hidden else ""),
                      xaxis=dict(title="p50 latency (ms)", range=x_range),
                      yaxis=dict(title=metric_label, range=y_range),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0), **LAYOUT)
    if hidden:
        fig.update_layout(margin_t=64)  # room for the title's second line
    return fig


def error_bars(values: Sequence[float], intervals: Sequence[Sequence[float] | None]) -> dict[str, Any] | None:
    """Plotly asymmetric error bars from 95% intervals (none where no row has one)."""
    if not any(intervals):
        return None
    return dict(type="data", symmetric=False, thickness=1.2, width=3,
                array=[ci[1] - v if ci else 0 for v, ci in zip(values, intervals)],
                arrayminus=[v - ci[0] if ci else 0 for v, ci in zip(values, intervals)])


def near_front(front: Sequence[int], points: Sequence[tuple[float, float]],
               x_cis: Sequence[Sequence[float] | None], y_cis: Sequence[Sequence[float] | None],
               higher_is_better: bool = True) -> list[int]:
    """Points off the Pareto front that no front point clearly beats: within the uncertainty they could be on
    the front. A front point clearly beats one when its latency and its metric intervals are both apart from
    the point's and better (a row without an interval counts as its value alone)."""
    return [i for i in range(len(points)) if i not in front and not any(
        clearly_beats(j, i, points, x_cis, y_cis, higher_is_better) for j in front)]


def clearly_beats(j: int, i: int, points: Sequence[tuple[float, float]], x_cis: Sequence[Sequence[float] | None],
                  y_cis: Sequence[Sequence[float] | None], higher_is_better: bool) -> bool:
    """Whether point ``j`` is faster and better than point ``i`` with intervals apart on both axes."""
    xj, xi = x_cis[j] or (points[j][0],) * 2, x_cis[i] or (points[i][0],) * 2
    yj, yi = y_cis[j] or (points[j][1],) * 2, y_cis[i] or (points[i][1],) * 2
    better = yj[0] > yi[1] if higher_is_better else yj[1] < yi[0]
    return xj[1] < xi[0] and better


def ranking_note(results: list[dict[str, Any]]) -> str | None:
    """:data:`NO_RANKING` when every row's headline interval overlaps every other's, else None."""
    if not results:
        return None
    key = headline(results[0]["task"])[0]
    return NO_RANKING if all_overlap([metric_ci(r, key) for r in results]) else None


def best_two(results: list[dict[str, Any]]) -> tuple[int, int] | None:
    """Indices of the two rows best on the headline metric (None with fewer than two scored rows)."""
    if not results:
        return None
    key, _, higher = headline(results[0]["task"])
    scored = [i for i, r in enumerate(results) if (r.get("metrics") or {}).get(key) is not None]
    if len(scored) < 2:
        return None
    ranked = sorted(scored, key=lambda i: results[i]["metrics"][key], reverse=higher)
    return ranked[0], ranked[1]


def paired_comparison(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Rows ``a`` and ``b`` compared on the items both saw (components.core.stats.paired_rows), in words."""
    evaluation = TASKS[a["task"]].evaluation if a["task"] in TASKS else None
    labels = {m.key: m.label for m in evaluation.metrics} if evaluation else {}
    return paired_rows(a, b, label(a), label(b), labels)


def axis_range(values: Sequence[float], pad: float, floor: float | None = None,
               ceiling: float | None = None) -> list[float]:
    """[low, high] around ``values``, ``pad`` of their span (of the value, for one) added on each side, kept
    within ``floor`` and ``ceiling`` where given."""
    low, high = min(values), max(values)
    margin = pad * ((high - low) or abs(high) or 1.0)
    low, high = low - margin, high + margin
    return [low if floor is None else max(floor, low), high if ceiling is None else min(ceiling, high)]


def metric_range(values: Sequence[float]) -> list[float]:
    """The metric axis: padded for the labels, within [0, 1.05] for a metric within [0, 1] (accuracy, F1) and
    [-1.05, 1.05] for one within [-1, 1] (a correlation); unbounded otherwise (a word error rate above 1)."""
    floor = 0.0 if min(values) >= 0 else -1.05 if min(values) >= -1 else None
    return axis_range(values, 0.25, floor=floor, ceiling=1.05 if max(values) <= 1 else None)


def memory_and_size(results: list[dict[str, Any]]) -> go.Figure:
    names = [label(r) for r in results]
    fig = go.Figure([
        go.Bar(name="Peak process RSS (MB)", x=names, y=[r["peak_rss_mb"] for r in results]),
        go.Bar(name="Model size (MB)", x=names, y=[r["size_mb"] for r in results]),
    ])
    fig.update_layout(barmode="group", title="Memory and size", yaxis_title="MB", **LAYOUT)
    return fig


def line_style(n: int) -> dict[str, str]:
    """The ``n``-th line's colour, dash and marker: the palette's 8 colours solid, then dashed, dotted and
    dash-dotted (32 lines told apart by colour and dash), and a marker cycling over 7 symbols on top."""
    return {"color": PALETTE[n % len(PALETTE)], "dash": LINE_DASHES[n // len(PALETTE) % len(LINE_DASHES)],
            "symbol": LINE_SYMBOLS[n % len(LINE_SYMBOLS)]}


def throughput_by_batch(results: list[dict[str, Any]]) -> go.Figure | None:
    """Items per second against batch size, a line per row, each in its own :func:`line_style`."""
    lines = {label(r): sorted((int(b), v) for b, v in (r.get("throughput") or {}).items()) for r in results}
    lines = {name: points for name, points in lines.items() if points}
    if not lines:
        return None
    fig = go.Figure()
    for n, (name, points) in enumerate(lines.items()):
        style = line_style(n)
        fig.add_trace(go.Scatter(x=[b for b, _ in points], y=[v for _, v in points], name=name, mode="lines+markers",
                                 line=dict(color=style["color"], dash=style["dash"]),
                                 marker=dict(color=style["color"], symbol=style["symbol"], size=8),
                                 hovertemplate="batch %{x}: %{y:.1f} items/s"))
    sizes = sorted({b for points in lines.values() for b, _ in points})
    fig.update_xaxes(type="log", title="batch size", tickvals=sizes, ticktext=[str(s) for s in sizes])
    fig.update_layout(title="Throughput vs batch size", yaxis_title="items per second", **LAYOUT)
    return fig


def published_vs_measured(results: list[dict[str, Any]]) -> go.Figure | None:
    """Each model's published reference metric beside the one measured here (same scale)."""
    rows = []
    for r in results:
        reference = r.get("reference_metric") or {}
        key, metric_label, _ = headline(r["task"])
        measured = (r.get("metrics") or {}).get(key)
        if reference and measured is not None and r["task"] == IMAGE_CLASSIFICATION \
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
        speedups = [e["latency_ms"]["p50"] / r["latency_ms"]["p50"] for r, e in chosen]
        fig.add_trace(go.Bar(name=runtime, x=names, y=speedups, legendgroup=runtime, marker_color=color,
                             error_y=error_bars(speedups, [speedup_interval(r, e) for r, e in chosen])), 1, 1)
        fig.add_trace(go.Bar(name=runtime, x=names, y=[r["size_mb"] for r, _ in chosen], legendgroup=runtime,
                             showlegend=False, marker_color=color), 1, 2)
        agreed = [(r.get("agreement") or {}).get("value") for r, _ in chosen]
        fig.add_trace(go.Bar(name=runtime, x=names, y=agreed, legendgroup=runtime, showlegend=False,
                             marker_color=color, error_y=error_bars(agreed, [r.get("agreement_ci") for r, _ in chosen]),
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


def speedup_interval(result: dict[str, Any], eager: dict[str, Any]) -> list[float] | None:
    """A conservative 95% range of the speed-up over eager: the ends of both p50 intervals divided."""
    fast, slow = latency_ci(result), latency_ci(eager)
    if not fast or not slow or fast[0] <= 0:
        return None
    return [slow[0] / fast[1], slow[1] / fast[0]]


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
            why = ("This CPU has 8-bit dot products (VNNI / AMX): int8 pays off mostly for MatMul-bound models "
                   "(transformers); a small convolutional network can lose more to quantising and dequantising "
                   "its activations than it gains" if "VNNI" in flags or "AMX-INT8" in flags else
                   "int8 pays off where the CPU has VNNI / AMX and the model is MatMul-bound")
            notes.append(f"{label(dict(r, runtime='eager'))}: int8 ran slower than fp32 on this CPU "
                         f"({r['latency_ms']['p50']:.3g} vs {fp32['latency_ms']['p50']:.3g} ms p50; CPU features: "
                         f"{flags}). {why}.")
    return notes


def compare_figures(results: list[dict[str, Any]]) -> list[go.Figure]:
    """Every Compare chart that has something to show for ``results``, in the page's order."""
    figures = [accuracy_vs_latency(results), latency_distribution(results), memory_and_size(results),
               throughput_by_batch(results), published_vs_measured(results), runtime_comparison(results)]
    return [f for f in figures if f is not None]
