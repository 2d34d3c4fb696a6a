"""Catalog data prepared for pages: entries with their availability, as rows and filters."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.core import CatalogEntry, CatalogError, default_catalog
from components.models import (
    STATUS_ORDER,
    Availability,
    SupplyError,
    compute_availability,
    downloads_allowed,
    needs_download,
    on_server,
    remove_cached,
    supply_line,
)
from components.ui.views.download import show_download
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


SUPPLY_NOTE = "cat_supply_note"  # what the last Download / Remove did, shown once


@st.cache_data(ttl=60, show_spinner=False)
def cached_supply_line(model_id: str, extra_dir: str = "") -> str | None:
    """:func:`supply_line` for one entry, asked of the endpoint at most once a minute per server."""
    from components.core import get_entry

    return supply_line(get_entry(model_id), extra_dir or None)


def supply_panel(entry: CatalogEntry, extra_dir: str = "") -> None:
    """A Hub model's place on this server ("on this server (size)" / "downloads on first use (size)") and, when
    whoever started the server allows downloads, a Download or Remove button for the whole server."""
    line = cached_supply_line(entry.id, extra_dir)
    if line is None:
        return
    st.markdown(f"**:material/download: Weights:** {line}")
    done = st.session_state.pop(SUPPLY_NOTE, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    if not downloads_allowed():
        return
    here = on_server(entry, extra_dir or None)
    if not here and not needs_download(entry, extra_dir or None):
        return  # not here and the endpoint is not reachable: nothing to offer
    label, icon = ("Remove from this server", ":material/delete:") if here else \
        ("Download to this server", ":material/download:")
    if st.button(label, icon=icon, key=f"cat_supply_{entry.id}"):
        _supply_action(entry, here, extra_dir)


def _supply_action(entry: CatalogEntry, here: bool, extra_dir: str) -> None:
    """Remove ``entry`` from the server's cache, or download it with its progress shown; then the card again."""
    try:
        if here:
            note = f"Removed {entry.name}: {remove_cached(entry)['freed_bytes'] / 1e6:,.1f} MB freed"
        else:
            show_download(entry, extra_dir or None)
            note = f"{entry.name} is on this server now"
    except SupplyError as exc:
        st.error(literal(exc), icon=":material/error:")
        return
    availability_map.clear()
    cached_supply_line.clear()
    st.session_state[SUPPLY_NOTE] = note
    st.rerun()
