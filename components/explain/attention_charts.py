"""Plotly figures of self-attention (components.explain.attention): one head's token x token map, and the grid of
every head's mean attention entropy. Pure functions from arrays to figures."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from components.viz import colour_blind_safe


def attention_heatmap(tokens: list[str], matrix: np.ndarray, title: str) -> go.Figure:
    """Row q: how much token q (attending) looks at each token (attended to); tokens label both axes.

    The axes are positions with the tokens as tick labels, so a repeated token keeps its own row and column.
    """
    positions = list(range(len(tokens)))
    hover = [[f"{tokens[q]} → {tokens[k]}: {matrix[q][k]:.3f}" for k in positions] for q in positions]
    fig = go.Figure(go.Heatmap(z=np.asarray(matrix).tolist(), x=positions, y=positions, zmin=0.0,
                               colorscale="Blues", hovertext=hover, hoverinfo="text",
                               colorbar=dict(title="attention")))
    side = min(900, 160 + 18 * len(tokens))
    ticks = dict(tickmode="array", tickvals=positions, ticktext=tokens, tickfont=dict(size=11))
    fig.update_layout(height=side, margin=dict(l=10, r=10, t=40, b=10), title=dict(text=title, font=dict(size=14)),
                      xaxis=dict(title="attended to", side="top", tickangle=-60, **ticks),
                      yaxis=dict(title="attending token", autorange="reversed", **ticks))
    return colour_blind_safe(fig)


def head_entropy_grid(entropy: np.ndarray, tokens: int) -> go.Figure:
    """Layers x heads, each cell the head's mean attention entropy in bits (dark: focused heads)."""
    layers, heads = entropy.shape
    most = float(np.log2(max(tokens, 2)))
    fig = go.Figure(go.Heatmap(
        z=entropy.tolist(), x=[f"head {h}" for h in range(1, heads + 1)],
        y=[f"layer {n}" for n in range(1, layers + 1)],
        zmin=0.0, zmax=most, colorscale="Viridis", colorbar=dict(title="bits"),
        text=[[f"{v:.2f}" for v in row] for row in entropy.tolist()], texttemplate="%{text}" if heads <= 16 else None,
        hovertemplate="%{y}, %{x}: %{z:.2f} bits<extra></extra>"))
    fig.update_layout(height=120 + 34 * layers, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(autorange="reversed"), xaxis=dict(side="top"))
    return colour_blind_safe(fig)
