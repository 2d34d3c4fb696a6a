"""Compare's estimates: models of the task that cannot run here (estimate-only), offered as labelled estimates
beside the measured rows, never mixed with them."""
from __future__ import annotations

from typing import Any

import streamlit as st

from components.compare import estimates_table
from components.core import default_catalog
from components.models import ESTIMATE_ONLY, Availability
from components.ui.shell.share import setting
from components.ui.views.catalog import cached_estimate
from components.ui.widgets.format import literal


def estimate_picker(task: str, availability: dict[str, Availability]) -> list[dict[str, Any]]:
    """A multiselect of the task's estimate-only models; the estimates of those picked (one line per failure)."""
    options = {e.id: e.name for e in default_catalog()
               if task in e.tasks and availability[e.id].status == ESTIMATE_ONLY}
    if not options:
        return []
    chosen = setting("compare", "estimates").draw(st.multiselect, list(options), format_func=options.get,
                                                  context={"task": task})  # carried by the link
    estimates = []
    for model_id in chosen:
        try:
            estimates.append(cached_estimate(model_id))
        except ValueError as exc:
            st.caption(literal(exc))
    return estimates


def show_estimates(estimates: list[dict[str, Any]]) -> None:
    """The estimates' own table, apart from the measured results, with how they are made."""
    if not estimates:
        return
    st.subheader("Estimates (not measured)")
    st.dataframe(estimates_table(estimates), hide_index=True, width="stretch",
                 column_config={"Params (exact)": st.column_config.NumberColumn(format="localized")})
    machine = estimates[0]["machine"]
    st.caption(f"Estimates, not measurements: meta-device build and a roofline from this machine's "
               f"{machine['bandwidth_gb_s']} GB/s and {machine['flops_g_s']} GFLOP/s on {machine['threads']} "
               f"thread(s) ({literal(machine['method'])}). The README's Estimates section sets them beside "
               "measurements.")
