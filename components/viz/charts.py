"""Plotly figures for the playgrounds: pure functions from data to figures.

Also what every chart of the app shares: the colour-blind-safe palette (Okabe & Ito, "Color Universal
Design", 2008) and the text alternative of a figure (its data as table rows, and a one-line summary).
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.colors as px_colors
import plotly.graph_objects as go

SAMPLE_RATE = 16000
N_FFT, HOP, N_MELS = 400, 160, 64  # 25 ms windows, 10 ms hop: what speech models look at
MAX_WAVEFORM_POINTS = 4000

# Okabe-Ito: told apart with every common colour-vision deficiency. Yellow last: faint on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, BLACK, YELLOW = PALETTE
GREY = "#999999"
MAX_TABLE_ROWS = 60  # a chart with more points gets a summary line, not a table
HOVER_GRID_LINES = 30  # a similarity heatmap of more lines: no per-cell hover texts, and no taller
# A horizontal legend under the x-axis title (its top below the title; plotly grows the bottom margin to fit it)
LEGEND_BELOW = dict(orientation="h", yref="container", yanchor="bottom", y=0, x=0)


def colour_blind_safe(fig: go.Figure) -> go.Figure:
    """Give ``fig`` the palette as its colour cycle (explicit trace colours stay as they are)."""
    fig.update_layout(colorway=list(PALETTE))
    return fig


def plot_text(text: Any) -> str:
    """``text`` (user or model text) drawn as typed: plotly renders ``<b>``, ``<a href>``, ``<br>`` in labels."""
    return html.escape(str(text), quote=False)


def ranked_bars(rows: list[dict[str, Any]], percent: bool = True) -> go.Figure:
    """Horizontal bars of ``label`` / ``score``, best on top; ``percent`` for shares, else raw values."""
    labels = [plot_text(r["label"]) for r in rows][::-1]
    scores = [float(r["score"]) for r in rows][::-1]
    text = [f"{s:.1%}" if percent else f"{s:.2f}" for s in scores]
    fig = go.Figure(go.Bar(x=scores, y=labels, orientation="h", text=text, textposition="auto",
                           marker_color=BLUE))
    axis = dict(range=[0, max(1.0, max(scores, default=1.0))], tickformat=".0%") if percent else \
        dict(range=[min(0.0, min(scores, default=0.0)), 1.0])
    fig.update_layout(height=60 + 34 * len(rows), margin=dict(l=10, r=10, t=10, b=10), xaxis=axis)
    return colour_blind_safe(fig)


def similarity_heatmap(sentences: list[str], matrix: list[list[float]]) -> go.Figure:
    """Cosine-similarity matrix; axes numbered (#1, #2, …), full sentences on hover up to HOVER_GRID_LINES
    lines, beyond that the row's and column's labels (a grid of hover texts grows with lines²: 1,000 lines
    sent 76 MB to the browser); values rounded to 3 decimals."""
    n = len(sentences)
    numbers = [f"#{i}" for i in range(1, n + 1)]
    rows = [f"#{i} {plot_text(s[:22])}{'…' if len(s) > 22 else ''}" for i, s in enumerate(sentences, start=1)]
    z = [[round(float(v), 3) for v in row] for row in matrix]
    if n <= HOVER_GRID_LINES:
        hover = dict(hovertext=[[f"{plot_text(sentences[r])}<br>{plot_text(sentences[c])}<br>cosine {z[r][c]:.2f}"
                                 for c in range(n)]
                                for r in range(n)], hoverinfo="text")
    else:
        hover = dict(hovertemplate="%{y} · %{x}<br>cosine %{z:.2f}<extra></extra>")
    labelled = dict(text=[[f"{v:.2f}" for v in row] for row in z], texttemplate="%{text}") if n <= 10 else {}
    fig = go.Figure(go.Heatmap(z=z, x=numbers, y=rows, zmin=-1, zmax=1, colorscale="RdBu", showscale=False,
                               **hover, **labelled))
    fig.update_layout(height=120 + 32 * min(n, HOVER_GRID_LINES), margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(autorange="reversed"),
                      xaxis=dict(side="top", type="category", dtick=1 if n <= HOVER_GRID_LINES else None))
    return colour_blind_safe(fig)


def waveform(audio: np.ndarray, segments: list[dict[str, float]] | None = None) -> go.Figure:
    """The waveform (min/max envelope when long), with voice-activity segments shaded."""
    step = max(1, len(audio) // MAX_WAVEFORM_POINTS)
    trimmed = audio[: len(audio) // step * step].reshape(-1, step)
    times = np.arange(trimmed.shape[0]) * step / SAMPLE_RATE
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=times, y=trimmed.max(axis=1), line=dict(width=1, color=BLUE), name="max"))
    fig.add_trace(go.Scatter(x=times, y=trimmed.min(axis=1), line=dict(width=1, color=BLUE),
                             fill="tonexty", name="min"))
    for seg in segments or []:
        fig.add_vrect(x0=seg["start"], x1=seg["end"], fillcolor=ORANGE, opacity=0.3, line_width=0,
                      annotation_text="speech", annotation_position="top left")
    fig.update_layout(height=220, showlegend=False, margin=dict(l=10, r=10, t=10, b=30),
                      xaxis_title="seconds", yaxis=dict(range=[-1, 1]))
    return colour_blind_safe(fig)


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)


FLOOR_DB = -80.0  # the quietest level the spectrogram tells apart
# plotly's Magma starts at #000004, one of Streamlit's theme placeholders (#000001...), which its frontend replaces
# with a theme colour (pink): the same scale from true black
MAGMA = ["#000000", *px_colors.sequential.Magma[1:]]
SILENT_POWER = 1e-10  # a clip whose loudest mel cell is this weak is silence


def mel_spectrogram_db(audio: np.ndarray) -> np.ndarray:
    """Log-mel power spectrogram in dB below its loudest cell, floored at :data:`FLOOR_DB` (numpy STFT: no numba
    JIT on the first request). Silence is the floor everywhere, not 0 dB."""
    if len(audio) < N_FFT:
        audio = np.pad(audio, (0, N_FFT - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(audio, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2
    mel = _mel_filters() @ power.T
    if float(mel.max()) <= SILENT_POWER:
        return np.full(mel.shape, FLOOR_DB)
    return np.maximum(10 * np.log10(np.maximum(mel, 1e-10) / float(mel.max())), FLOOR_DB)


def mel_spectrogram(audio: np.ndarray) -> go.Figure:
    db = mel_spectrogram_db(audio)
    times = np.arange(db.shape[1]) * HOP / SAMPLE_RATE
    fig = go.Figure(go.Heatmap(z=db, x=times, colorscale=MAGMA, zmin=FLOOR_DB, zmax=0.0,  # silence: dark
                               colorbar=dict(title="dB")))
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=10, b=30), xaxis_title="seconds",
                      yaxis_title="mel band")
    return colour_blind_safe(fig)


def robustness_curves(curves: dict[str, list[dict[str, Any]]], metric: str, metric_label: str,
                      perturbation: str) -> go.Figure:
    """One line per model: the metric against perturbation strength (components.explain.stress points)."""
    fig = go.Figure()
    for model, points in curves.items():
        fig.add_trace(go.Scatter(x=[p["strength"] for p in points], y=[p["metrics"].get(metric) for p in points],
                                 mode="lines+markers", name=model))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=f"{perturbation} strength",
                      yaxis_title=metric_label, xaxis=dict(range=[-0.02, 1.02]), legend=LEGEND_BELOW)
    return colour_blind_safe(fig)


def waveform_words(audio: np.ndarray, words: list[dict[str, Any]]) -> go.Figure:
    """The waveform with each recognised word spanning its time, shaded and labelled by its probability."""
    fig = waveform(audio)
    for index, word in enumerate(words):
        fig.add_vrect(x0=word["start"], x1=word["end"], line_width=0, opacity=0.15 + 0.5 * word["probability"],
                      fillcolor=GREEN if word["probability"] >= 0.5 else VERMILLION)
        fig.add_annotation(x=(word["start"] + word["end"]) / 2, y=0.9 if index % 2 else 0.7, showarrow=False,
                           text=f"{word['word']}<br>{word['probability']:.2f}", font=dict(size=10))
    fig.update_layout(height=260)
    return fig


# ---------------------------------------------------------------- text alternatives of any figure

def _number(value: Any) -> Any:
    """Floats to four significant digits (what a reader compares); anything else as it is."""
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.4g}")
    if isinstance(value, np.integer):
        return int(value)
    return value


def _plain(text: Any) -> str:
    """A title or label without plotly's HTML tags (and its escaped characters as typed)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", "" if text is None else str(text))).strip()


def _axis_title(fig: go.Figure, axis: str, fallback: str) -> str:
    """The title of ``axis`` ("x", "x2", "y3" …) or ``fallback``."""
    name = axis[0] + "axis" + axis[1:]
    layout_axis = fig.layout[name] if name in fig.layout else None
    title = _plain(layout_axis.title.text) if layout_axis is not None and layout_axis.title else ""
    return title or fallback


def _panel(fig: go.Figure, trace: Any) -> str:
    """The subplot title of a trace drawn in a second or later panel (make_subplots), else ""."""
    axis = trace.xaxis or "x"
    titles = [_plain(a.text) for a in fig.layout.annotations or () if a.xref == "paper" and a.yref == "paper"]
    index = int(axis[1:] or 1) - 1
    return titles[index] if axis != "x" and index < len(titles) else ""


def _listed(trace: Any) -> bool:
    """Skip decoration: traces that are not hoverable (bands, fills)."""
    return trace.hoverinfo != "skip"


def chart_rows(fig: go.Figure) -> list[dict[str, Any]]:
    """The data drawn in ``fig`` as table rows: a point per row (a box as its summary, a heatmap by rows).

    Empty when the figure holds more than ``MAX_TABLE_ROWS`` rows (a waveform, a spectrogram): then
    :func:`chart_summary` is its text alternative.
    """
    rows: list[dict[str, Any]] = []
    traces = [t for t in fig.data if _listed(t)]
    several = len(traces) > 1
    for trace in traces:
        series = " · ".join(p for p in (_plain(trace.name), _panel(fig, trace)) if p)
        if trace.type == "box":
            values = np.array([v for v in (trace.y if trace.y is not None else trace.x) if v is not None], float)
            if values.size:
                rows.append({"series": series, "n": int(values.size), "min": _number(values.min()),
                             "median": _number(np.median(values)), "max": _number(values.max())})
        elif trace.type == "heatmap":
            z = np.asarray(trace.z, dtype=float)
            if z.ndim != 2 or z.shape[0] > MAX_TABLE_ROWS or z.shape[1] > 20:
                return []
            columns = [str(c) for c in (trace.x if trace.x is not None else range(1, z.shape[1] + 1))]
            labels = trace.y if trace.y is not None else range(1, z.shape[0] + 1)
            rows += [{"row": _plain(label), **{c: _number(v) for c, v in zip(columns, line)}}
                     for label, line in zip(labels, z)]
        elif trace.x is not None and trace.y is not None:
            x_name = _axis_title(fig, trace.xaxis or "x", "x")
            y_name = _axis_title(fig, trace.yaxis or "y", "y")
            horizontal = trace.type == "bar" and trace.orientation == "h"
            texts = list(trace.text) if isinstance(trace.text, (list, tuple)) else None
            points = list(enumerate(zip(trace.x, trace.y)))
            if horizontal and fig.layout.yaxis.autorange != "reversed":
                points.reverse()  # plotly stacks horizontal bars upwards: read them top first
            for i, (x, y) in points:
                row: dict[str, Any] = {"series": series} if several else {}
                if horizontal:
                    row.update({y_name if y_name != "y" else "label": _plain(y), x_name if x_name != "x"
                                else "value": _number(x)})
                else:
                    if texts and trace.type == "scatter" and "text" in (trace.mode or ""):
                        row["label"] = _plain(texts[i])
                    row.update({x_name: _number(x), y_name: _number(y)})
                rows.append(row)
        if len(rows) > MAX_TABLE_ROWS:
            return []
    return rows


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else _plain(value)


def _trace_summary(fig: go.Figure, trace: Any) -> str:
    name = " · ".join(p for p in (_plain(trace.name), _panel(fig, trace)) if p)
    prefix = f"{name}: " if name else ""
    if trace.type == "box":
        values = np.array([v for v in (trace.y if trace.y is not None else trace.x) if v is not None], float)
        if not values.size:
            return ""
        return (f"{prefix}median {_fmt(np.median(values))} over {values.size} values "
                f"({_fmt(values.min())} to {_fmt(values.max())})")
    if trace.type == "heatmap":
        z = np.asarray(trace.z, dtype=float)
        return (f"{prefix}{z.shape[0]} × {z.shape[1] if z.ndim == 2 else 1} grid, values from "
                f"{_fmt(np.nanmin(z))} to {_fmt(np.nanmax(z))}")
    if trace.x is None or trace.y is None:
        return ""
    horizontal = trace.type == "bar" and trace.orientation == "h"
    labels, values = (list(trace.y), list(trace.x)) if horizontal else (list(trace.x), list(trace.y))
    pairs = [(l, v) for l, v in zip(labels, values) if isinstance(v, (int, float, np.number))]
    if not pairs:
        return ""
    if horizontal and fig.layout.yaxis.autorange != "reversed":
        pairs.reverse()
    texts = list(trace.text) if isinstance(trace.text, (list, tuple)) else None
    if horizontal and texts and fig.layout.yaxis.autorange != "reversed":
        texts.reverse()
    x_name, y_name = _axis_title(fig, trace.xaxis or "x", "x"), _axis_title(fig, trace.yaxis or "y", "y")
    if trace.type == "bar":
        shown = [texts[i] if texts else _fmt(v) for i, (_, v) in enumerate(pairs)]
        if len(pairs) <= 3:
            return prefix + ", ".join(f"{_fmt(l)} {t}" for (l, _), t in zip(pairs, shown))
        high = max(range(len(pairs)), key=lambda i: pairs[i][1])
        low = min(range(len(pairs)), key=lambda i: pairs[i][1])
        return (f"{prefix}{len(pairs)} bars, highest {_fmt(pairs[high][0])} {shown[high]}, "
                f"lowest {_fmt(pairs[low][0])} {shown[low]}")
    if texts and "text" in (trace.mode or "") and len(pairs) <= 12:
        return prefix + ", ".join(f"{_plain(t)} at {x_name} {_fmt(l)}, {y_name} {_fmt(v)}"
                                  for t, (l, v) in zip(texts, pairs))
    if len(pairs) <= 6:
        return prefix + ", ".join(f"{y_name} {_fmt(v)} at {x_name} {_fmt(l)}" for l, v in pairs)
    xs = [float(l) for l, _ in pairs if isinstance(l, (int, float, np.number))]
    ys = [float(v) for _, v in pairs]
    x_range = f", {x_name} {_fmt(min(xs))} to {_fmt(max(xs))}" if xs else ""
    return f"{prefix}{len(pairs)} points{x_range}, {y_name} {_fmt(min(ys))} to {_fmt(max(ys))}"


def chart_summary(fig: go.Figure, most: int = 6) -> str:
    """One line that says what ``fig`` shows: its title, then what each series holds."""
    title = _plain(fig.layout.title.text) if fig.layout.title else ""
    parts = [p for p in (_trace_summary(fig, t) for t in fig.data if _listed(t)) if p]
    more = f"; and {len(parts) - most} more series" if len(parts) > most else ""
    body = "; ".join(parts[:most]) + more
    return f"{title}. {body}" if title and body else title or body or "An empty chart."
