"""A plotly chart with its text alternative: the data as a table under "Chart data", or a one-line summary."""
from __future__ import annotations

from typing import Any

import streamlit as st

from components.ui.widgets.format import literal
from components.viz import chart_rows, chart_summary

NO_MODE_BAR = {"displayModeBar": False}


def show_chart(figure: Any, summary: str | None = None, key: str | None = None,
               config: dict[str, Any] | None = None) -> None:
    """Draw ``figure`` full width, then its text alternative.

    ``summary`` replaces the generated one-line summary where the page knows better words (a waveform's
    speech segments). A figure with at most ``MAX_TABLE_ROWS`` rows gets its table in a collapsed
    "Chart data" expander (a real HTML table, read by screen readers); a bigger one gets the line only.
    """
    st.plotly_chart(figure, width="stretch", key=key, config=config)
    line = summary or chart_summary(figure)
    rows = chart_rows(figure)
    if rows:
        with st.expander("Chart data", icon=":material/table:"):
            st.caption(literal(line))  # labels and lines come from the user or a link
            st.table(rows, hide_index=True)
    else:
        st.caption(f"Chart: {literal(line)}")
