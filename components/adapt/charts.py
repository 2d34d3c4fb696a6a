"""Plotly figures for the Adapt page: pure functions from rows and arrays to figures."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from components.viz import PALETTE


def row_label(row: dict[str, Any]) -> str:
    weights = {"real": "pre-trained", "random": "random weights", "none": "no deep learning"}[row["weights"]]
    return f"{row['backbone_name']} ({weights})"


def confusion_heatmap(row: dict[str, Any]) -> go.Figure:
    """Held-out confusion matrix: rows true class, columns predicted."""
    classes, matrix = row["classes"], row["confusion"]
    fig = go.Figure(go.Heatmap(z=matrix, x=classes, y=classes, colorscale="Blues", showscale=False,
                               text=matrix, texttemplate="%{text}",
                               hovertemplate="true %{y}<br>predicted %{x}<br>%{z} samples<extra></extra>"))
    fig.update_layout(title=f"Confusion matrix — {row_label(row)}", height=140 + 40 * len(classes),
                      margin=dict(l=10, r=10, t=50, b=10), xaxis_title="predicted", yaxis_title="true",
                      yaxis=dict(autorange="reversed", type="category"), xaxis=dict(type="category"))
    return fig


def per_class_bars(row: dict[str, Any]) -> go.Figure:
    items = row["per_class_accuracy"]
    fig = go.Figure(go.Bar(x=list(items.values()), y=list(items), orientation="h", marker_color=PALETTE[0],
                           text=[f"{v:.0%}" for v in items.values()], textposition="auto"))
    fig.update_layout(title=f"Per-class accuracy — {row_label(row)}", height=100 + 34 * len(items),
                      margin=dict(l=10, r=10, t=50, b=10), xaxis=dict(range=[0, 1], tickformat=".0%"),
                      yaxis=dict(autorange="reversed"))
    return fig


def fewshot_band(point: dict[str, Any]) -> tuple[float, float]:
    """A few-shot point's band: its 95% interval over draws (mean ± std in rows from before intervals)."""
    ci = point.get("accuracy_ci")
    if ci:
        return max(ci[0], 0.0), min(ci[1], 1.0)
    return point["accuracy_mean"] - point["accuracy_std"], point["accuracy_mean"] + point["accuracy_std"]


def fewshot_chart(rows: Sequence[dict[str, Any]]) -> go.Figure:
    """Accuracy against examples per class: mean line with its 95% interval over draws, one colour per row."""
    fig = go.Figure()
    for i, row in enumerate(rows):
        colour = PALETTE[i % len(PALETTE)]
        k = [p["shots"] for p in row["fewshot"]]
        mean = np.array([p["accuracy_mean"] for p in row["fewshot"]])
        std = np.array([p["accuracy_std"] for p in row["fewshot"]])
        low, high = zip(*(fewshot_band(p) for p in row["fewshot"])) if row["fewshot"] else ((), ())
        fig.add_trace(go.Scatter(x=k + k[::-1], y=list(high) + list(low[::-1]), fill="toself",
                                 fillcolor=colour, opacity=0.15, line=dict(width=0), hoverinfo="skip",
                                 showlegend=False))
        fig.add_trace(go.Scatter(x=k, y=mean, mode="lines+markers", name=row_label(row),
                                 line=dict(color=colour, dash="dot" if row["weights"] != "real" else "solid"),
                                 customdata=std,
                                 hovertemplate="k=%{x}: %{y:.0%} (std over draws %{customdata:.0%})<extra></extra>"))
    shots = sorted({p["shots"] for row in rows for p in row["fewshot"]})
    chance = 1 / max(len(rows[0]["classes"]), 1) if rows else 0
    fig.add_hline(y=chance, line=dict(color="grey", dash="dash"), annotation_text="chance")
    fig.update_layout(title="Few-shot curve: held-out accuracy vs examples per class "
                            "(mean and 95% interval over draws)",
                      height=420, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(type="log", tickvals=shots, title="examples per class"),
                      yaxis=dict(range=[0, 1.02], tickformat=".0%", title="held-out accuracy"),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def embedding_scatter(points: np.ndarray, labels: Sequence[str], hover: Sequence[str], title: str) -> go.Figure:
    """2-D projection of the features, one colour per class, the sample on hover."""
    fig = go.Figure()
    for i, label in enumerate(sorted(set(labels))):
        idx = [j for j, lab in enumerate(labels) if lab == label]
        fig.add_trace(go.Scatter(x=points[idx, 0], y=points[idx, 1], mode="markers", name=label,
                                 marker=dict(color=PALETTE[i % len(PALETTE)], size=8, opacity=0.8),
                                 text=[hover[j] for j in idx], hovertemplate="%{text}<extra>" + label + "</extra>"))
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False))
    return fig
