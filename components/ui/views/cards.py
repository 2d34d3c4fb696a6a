"""Result cards, side by side: the output plus model, device, latency, peak memory and weights."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components.models import runtime_shown
from components.ui.views.run import CardData
from components.ui.widgets.format import format_latency_ms, literal

Renderer = Callable[[CardData], None]
MAX_COLUMNS = 2
SHARED_NOTE = (" · :material/group: shared result: computed once on this server for this model, weights, runtime,"
               " options and input; latency and memory as measured then")

BATCH_NOTE = (" · :material/stacks: ran in a batch of {n} requests from this server's visitors (one forward pass);"
              " latency is this input's share")


def format_mb(megabytes: float) -> str:
    return f"{megabytes / 1024:.2f} GB" if megabytes >= 1000 else f"{megabytes:.0f} MB"


def weights_badge(weights: str) -> str:
    return (":material/check_circle: real weights" if weights == "real"
            else ":material/casino: random weights — accuracy n/a")


def show_cards(cards: list[CardData], render: Renderer) -> None:
    """One bordered card per model, two per row (room for the figures)."""
    for start in range(0, len(cards), MAX_COLUMNS):
        row = cards[start:start + MAX_COLUMNS]
        for column, card in zip(st.columns(MAX_COLUMNS), row):
            with column:
                _card(card, render)


def _card(card: CardData, render: Renderer) -> None:
    with st.container(border=True):
        st.markdown(f"#### {card.entry.name}")
        if card.result is None:
            st.error(literal(card.error) if card.error else "No result.")
            return
        result = card.result
        with st.container(horizontal=True, gap="small"):  # sized to the figures, wraps in a narrow card
            st.metric("Latency", format_latency_ms(result.latency_ms), width="content",
                      help="The model call itself: preprocess + forward + postprocess, "
                           "timed with time.perf_counter around each stage.")
            st.metric("Peak memory", format_mb(card.peak_rss_mb), width="content",
                      help="Peak resident memory of the app process during the call (psutil, sampled "
                           "every 5 ms). It includes every model loaded so far.")
            st.metric("Device", result.device, width="content")
        stages = " · ".join(f"{k} {format_latency_ms(v)}" for k, v in result.stages_ms.items())
        ran_on = runtime_shown(card.entry, result.task, result.weights, result.runtime)
        st.caption(f"{weights_badge(result.weights)} · on {ran_on} · {stages}"
                   + (" · loaded just now" if card.loaded_now else "")
                   + (SHARED_NOTE if card.shared else "")
                   + (BATCH_NOTE.format(n=result.batch_size) if result.batch_size > 1 else ""))
        render(card)


def top_k_chart(rows: list[dict[str, Any]], percent: bool = True) -> None:
    """Horizontal plotly bar chart of ranked scores (shares as %, or raw values such as cosines), with its
    table under "Chart data"."""
    from components.ui.widgets.chart import NO_MODE_BAR, show_chart
    from components.viz import ranked_bars

    show_chart(ranked_bars(rows, percent=percent), config=NO_MODE_BAR)
