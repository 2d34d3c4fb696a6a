"""Catalog data prepared for pages: entries with their availability, as rows and filters."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.availability import STATUS_ORDER, Availability, compute_availability
from components.catalog import CatalogEntry, CatalogError, default_catalog


def catalog_or_stop() -> tuple[CatalogEntry, ...]:
    """The catalog; on a malformed file, a clear error in the page and nothing else."""
    try:
        return default_catalog()
    except CatalogError as exc:
        st.error(f"The model catalog cannot be read: {exc}")
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
