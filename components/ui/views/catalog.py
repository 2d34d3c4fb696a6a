"""Catalog data prepared for pages: entries with their availability, as rows and filters."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.core import CatalogEntry, CatalogError, default_catalog
from components.models import STATUS_ORDER, Availability, compute_availability
from components.ui.widgets.format import literal


def catalog_or_stop() -> tuple[CatalogEntry, ...]:
    """The catalog; on a malformed file, a clear error in the page and nothing else."""
    try:
        return default_catalog()
    except CatalogError as exc:
        st.error(f"The model catalog cannot be read: {literal(exc)}")
        st.stop()


@st.cache_data(ttl=30, show_spinner="Checking which models can run here…")
def availability_map(extra_dir: str = "") -> dict[str, Availability]:
    """Availability of every entry, recomputed at most every 30 s (weights may appear)."""
    return {entry.id: compute_availability(entry, extra_dir or None) for entry in catalog_or_stop()}


def catalog_frame(entries: tuple[CatalogEntry, ...], availability: dict[str, Availability]) -> pd.DataFrame:
    """One row per entry, the columns a reader scans first."""
    rows = []
    for e in entries:
        status = availability[e.id]
        metric = e.reference_metric
        rows.append({
            "id": e.id, "Model": e.name, "Family": e.family, "Modality": e.modality,
            "Tasks": ", ".join(e.tasks), "Year": e.year,
            "Params (M)": None if e.params is None else round(e.params / 1e6, 1),
            "Access": e.access, "Availability": status.status,  # a table cell draws no markdown icons
            "Reference metric": f"{metric.name}: {metric.value:g}" if metric else "",
            "_status": STATUS_ORDER.index(status.status),
        })
    return pd.DataFrame(rows)


@st.cache_data(show_spinner="Building it on the meta device and estimating its cost…")
def cached_estimate(model_id: str) -> dict:
    """``components.estimate.model.estimate_entry`` for one entry, once per process (seconds for a 7B model)."""
    from components.core import get_entry
    from components.estimate import estimate_entry

    return estimate_entry(get_entry(model_id))


def estimate_panel(entry: CatalogEntry) -> None:
    """The card's estimated cost (meta device + this machine's roofline), always labelled an estimate."""
    if entry.architecture is None and entry.arch_config is None:
        return
    st.markdown("**:material/calculate: Estimated cost on this machine** — built on PyTorch's meta device from "
                "its configuration, with a roofline from this machine's measured bandwidth and FLOP/s: "
                "an estimate, never a measurement")
    if not st.toggle("Estimate its cost", key="cat_estimate"):
        return
    try:
        result = cached_estimate(entry.id)
    except ValueError as exc:
        st.warning(literal(exc))
        return
    cols = st.columns(3)
    cols[0].metric("Parameters (exact)", f"{result['params']:,}")
    per_token = result.get("latency_per_token_ms")
    if result["latency_ms"] is None:
        st.caption(literal(result["not_estimated"]))
    elif per_token is not None:
        cols[1].metric("GFLOP per token (estimate)", f"{result['gflops_per_token']:,.2f}")
        cols[2].metric("Latency per token, fp32 (estimate)", f"{per_token:,.0f} ms")
    else:
        cols[1].metric("GFLOP (estimate)", f"{result['gflops']:,.2f}")
        cols[2].metric("Latency, fp32 (estimate)", f"{result['latency_ms']:,.1f} ms")
    ram = result["ram"]
    st.dataframe(pd.DataFrame([
        {"dtype": dtype, "weights (GB)": size, "with activations (GB)": ram["per_dtype"][dtype]["need_gb"],
         f"fits in {ram['ram_total_gb']:g} GB RAM": ram["per_dtype"][dtype]["fits_total"]}
        for dtype, size in result["weights_gb"].items()]), hide_index=True)
    hw = result["machine"]
    st.caption(literal(f"Estimate for {result.get('input', 'its forward pass')}; {result['built_from']}; "
                       f"this machine: {hw['bandwidth_gb_s']} GB/s, {hw['flops_g_s']} GFLOP/s "
                       f"({hw['method']}; measured {hw['measured_at']}). "
                       f"CLI: python -m components.estimate --models {entry.id}"))
