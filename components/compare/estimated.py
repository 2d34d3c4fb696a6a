"""Estimated points on Compare's charts, for models that cannot run here (catalog status estimate-only).

An estimate (``components.estimate``: the meta-device build and this machine's roofline) is never a measurement:
it is drawn with open markers named "estimate" in the legend and the hover, only on the latency and memory / size
charts (never on an accuracy axis, never in the Pareto front), and listed in its own table, apart from the
measured results.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from components.viz import PURPLE

ESTIMATE_COLOR = PURPLE
LOG_SPAN = 100  # a y axis spanning more than this factor turns logarithmic (a 7B model beside a 5M one)
DTYPES = ("fp32", "bf16", "int8", "int4")


def estimate_name(estimate: dict[str, Any]) -> str:
    """An estimated model's name on a chart's axis: never the same as a measured row's."""
    return f"{estimate.get('name') or estimate['id']} (estimate)"


def estimate_latency_text(estimate: dict[str, Any]) -> str:
    """What the estimated latency is: its workload, dtype and threads, and per token for a decoder."""
    text = f"{estimate['latency_ms']:,.1f} ms, {estimate.get('latency_what', '')} ({estimate.get('input', '')})"
    per_token = estimate.get("latency_per_token_ms")
    return text + (f"; {per_token:,.1f} ms per generated token, fp32" if per_token is not None else "")


def timed(estimates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The estimates that have a latency (a forward pass that ran on the meta device)."""
    return [e for e in estimates if e.get("latency_ms") is not None]


def with_estimated_latency(fig: go.Figure, estimates: list[dict[str, Any]]) -> go.Figure:
    """The latency chart with one open diamond per estimate (the roofline latency of its stated input)."""
    rows = timed(estimates)
    if not rows:
        return fig
    fig.for_each_trace(lambda trace: trace.update(showlegend=False))
    fig.add_trace(go.Scatter(
        x=[estimate_name(e) for e in rows], y=[e["latency_ms"] for e in rows], mode="markers",
        name="estimate (roofline, not measured)", text=[estimate_latency_text(e) for e in rows],
        hovertemplate="%{x}<br>estimate: %{text}<extra></extra>",
        marker=dict(symbol="diamond-open", size=14, color=ESTIMATE_COLOR, line_width=2)))
    fig.update_layout(showlegend=True, legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))
    return _log_if_wide(fig)


def with_estimated_memory(fig: go.Figure, estimates: list[dict[str, Any]]) -> go.Figure:
    """The memory and size chart with open markers per estimate: RAM needed and weights' size, fp32, in MB."""
    if not estimates:
        return fig
    names = [estimate_name(e) for e in estimates]
    weights = [", ".join(f"{d} {e['weights_gb'][d]:,.2f} GB" for d in DTYPES) for e in estimates]
    fig.add_trace(go.Scatter(
        x=names, y=[e["ram"]["per_dtype"]["fp32"]["need_gb"] * 1e3 for e in estimates], mode="markers",
        name="RAM needed, fp32 (MB, estimate)", customdata=weights,
        hovertemplate="%{x}<br>estimate: %{y:,.0f} MB of RAM at fp32 (weights + peak activations)<extra></extra>",
        marker=dict(symbol="circle-open", size=14, color=ESTIMATE_COLOR, line_width=2)))
    fig.add_trace(go.Scatter(
        x=names, y=[e["weights_gb"]["fp32"] * 1e3 for e in estimates], mode="markers",
        name="Weights size, fp32 (MB, estimate)", customdata=weights,
        hovertemplate="%{x}<br>estimate: %{y:,.0f} MB of weights at fp32<br>%{customdata}<extra></extra>",
        marker=dict(symbol="square-open", size=12, color=ESTIMATE_COLOR, line_width=2)))
    return _log_if_wide(fig)


def _log_if_wide(fig: go.Figure) -> go.Figure:
    """A logarithmic y axis when the values drawn span more than :data:`LOG_SPAN` (else the small ones vanish)."""
    values = [v for trace in fig.data for v in (trace.y or ()) if isinstance(v, int | float) and v > 0]
    if values and max(values) / min(values) > LOG_SPAN:
        fig.update_yaxes(type="log")
    return fig


def estimates_table(estimates: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per estimated model, apart from the measured results: exact parameters, weights per dtype, RAM,
    and the labelled latency."""
    rows = []
    for e in estimates:
        fits = e["ram"]["per_dtype"]
        rows.append({
            "Model": estimate_name(e), "Params (exact)": e["params"],
            **{f"Weights {d} GB": e["weights_gb"][d] for d in DTYPES},
            "Fits in RAM from": next((d for d in DTYPES if fits[d]["fits_total"]), "none"),
            "Latency (estimate)": estimate_latency_text(e) if e.get("latency_ms") is not None
                                  else e.get("not_estimated", ""),
            "Built from": e.get("built_from", ""),
        })
    return pd.DataFrame(rows)
