"""Plotly figures for the playgrounds: pure functions from data to figures."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go

SAMPLE_RATE = 16000
N_FFT, HOP, N_MELS = 400, 160, 64  # 25 ms windows, 10 ms hop: what speech models look at
MAX_WAVEFORM_POINTS = 4000


def ranked_bars(rows: list[dict[str, Any]], percent: bool = True) -> go.Figure:
    """Horizontal bars of ``label`` / ``score``, best on top; ``percent`` for shares, else raw values."""
    labels = [str(r["label"]) for r in rows][::-1]
    scores = [float(r["score"]) for r in rows][::-1]
    text = [f"{s:.1%}" if percent else f"{s:.2f}" for s in scores]
    fig = go.Figure(go.Bar(x=scores, y=labels, orientation="h", text=text, textposition="auto",
                           marker_color="#2563eb"))
    axis = dict(range=[0, max(1.0, max(scores, default=1.0))], tickformat=".0%") if percent else \
        dict(range=[min(0.0, min(scores, default=0.0)), 1.0])
    fig.update_layout(height=60 + 34 * len(rows), margin=dict(l=10, r=10, t=10, b=10), xaxis=axis)
    return fig


def similarity_heatmap(sentences: list[str], matrix: list[list[float]]) -> go.Figure:
    """Cosine-similarity matrix; axes numbered (#1, #2, …), full sentences on hover."""
    numbers = [f"#{i}" for i in range(1, len(sentences) + 1)]
    rows = [f"#{i} {s[:22]}{'…' if len(s) > 22 else ''}" for i, s in enumerate(sentences, start=1)]
    hover = [[f"{sentences[r]}<br>{sentences[c]}<br>cosine {matrix[r][c]:.2f}" for c in range(len(sentences))]
             for r in range(len(sentences))]
    fig = go.Figure(go.Heatmap(z=matrix, x=numbers, y=rows, zmin=-1, zmax=1, colorscale="RdBu",
                               hovertext=hover, hoverinfo="text", showscale=False,
                               text=[[f"{v:.2f}" for v in row] for row in matrix],
                               texttemplate="%{text}" if len(sentences) <= 10 else None))
    fig.update_layout(height=120 + 32 * len(sentences), margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(autorange="reversed"), xaxis=dict(side="top", type="category", dtick=1))
    return fig


def waveform(audio: np.ndarray, segments: list[dict[str, float]] | None = None) -> go.Figure:
    """The waveform (min/max envelope when long), with voice-activity segments shaded."""
    step = max(1, len(audio) // MAX_WAVEFORM_POINTS)
    trimmed = audio[: len(audio) // step * step].reshape(-1, step)
    times = np.arange(trimmed.shape[0]) * step / SAMPLE_RATE
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=times, y=trimmed.max(axis=1), line=dict(width=1, color="#2563eb"), name="max"))
    fig.add_trace(go.Scatter(x=times, y=trimmed.min(axis=1), line=dict(width=1, color="#2563eb"),
                             fill="tonexty", name="min"))
    for seg in segments or []:
        fig.add_vrect(x0=seg["start"], x1=seg["end"], fillcolor="#22c55e", opacity=0.25, line_width=0,
                      annotation_text="speech", annotation_position="top left")
    fig.update_layout(height=220, showlegend=False, margin=dict(l=10, r=10, t=10, b=30),
                      xaxis_title="seconds", yaxis=dict(range=[-1, 1]))
    return fig


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)


def mel_spectrogram_db(audio: np.ndarray) -> np.ndarray:
    """Log-mel power spectrogram in dB (numpy STFT: no numba JIT on the first request)."""
    if len(audio) < N_FFT:
        audio = np.pad(audio, (0, N_FFT - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(audio, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2
    mel = _mel_filters() @ power.T
    return 10 * np.log10(np.maximum(mel, 1e-10) / max(float(mel.max()), 1e-10))


def mel_spectrogram(audio: np.ndarray) -> go.Figure:
    db = mel_spectrogram_db(audio)
    times = np.arange(db.shape[1]) * HOP / SAMPLE_RATE
    fig = go.Figure(go.Heatmap(z=np.maximum(db, -80), x=times, colorscale="Magma", colorbar=dict(title="dB")))
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=10, b=30), xaxis_title="seconds",
                      yaxis_title="mel band")
    return fig


def robustness_curves(curves: dict[str, list[dict[str, Any]]], metric: str, metric_label: str,
                      perturbation: str) -> go.Figure:
    """One line per model: the metric against perturbation strength (components.stress points)."""
    fig = go.Figure()
    for model, points in curves.items():
        fig.add_trace(go.Scatter(x=[p["strength"] for p in points], y=[p["metrics"].get(metric) for p in points],
                                 mode="lines+markers", name=model))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=40), xaxis_title=f"{perturbation} strength",
                      yaxis_title=metric_label, xaxis=dict(range=[-0.02, 1.02]), legend=dict(orientation="h"))
    return fig


def waveform_words(audio: np.ndarray, words: list[dict[str, Any]]) -> go.Figure:
    """The waveform with each recognised word spanning its time, shaded and labelled by its probability."""
    fig = waveform(audio)
    for index, word in enumerate(words):
        fig.add_vrect(x0=word["start"], x1=word["end"], line_width=0, opacity=0.15 + 0.5 * word["probability"],
                      fillcolor="#16a34a" if word["probability"] >= 0.5 else "#dc2626")
        fig.add_annotation(x=(word["start"] + word["end"]) / 2, y=0.9 if index % 2 else 0.7, showarrow=False,
                           text=f"{word['word']}<br>{word['probability']:.2f}", font=dict(size=10))
    fig.update_layout(height=260)
    return fig
