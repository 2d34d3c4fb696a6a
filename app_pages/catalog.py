"""Catalog: search and filter every model; open a card with facts, availability and code."""
import streamlit as st

from components.core import MODALITIES, code_snippet, endpoint_line, network_available
from components.models import STATUS_ORDER
from components.ui import (
    availability_map,
    catalog_frame,
    catalog_or_stop,
    estimate_panel,
    models_dir,
    models_dir_input,
    setting,
    supply_panel,
)

st.title(":material/menu_book: Model catalog")
st.caption("Landmark pre-trained models with their facts, and whether each can run on this machine — "
           "computed now, with the reason.")
st.caption(endpoint_line(network_available()))

entries = catalog_or_stop()
with st.sidebar:
    models_dir_input("A folder holding Hugging Face model folders (each with config.json). Models found there "
                     "become ready.")
availability = availability_map(models_dir() or "")
frame = catalog_frame(entries, availability)

tasks = sorted({t for e in entries for t in e.tasks})
families = sorted({e.family for e in entries})
c1, c2, c3 = st.columns([2, 1, 1])
query = setting("catalog", "q").draw(c1.text_input, placeholder="name, family, task, description…")
modalities = setting("catalog", "modality").draw(c2.multiselect, MODALITIES)
statuses = setting("catalog", "status").draw(c3.multiselect, STATUS_ORDER)
c4, c5, c6 = st.columns([1, 1, 2])
task_filter = setting("catalog", "task").draw(c4.multiselect, tasks)
family_filter = setting("catalog", "family").draw(c5.multiselect, families)
SIZE = setting("catalog", "size")
st.session_state.setdefault(SIZE.key, "any")
size_choice = SIZE.draw(c6.select_slider, options=SIZE.options())

limits = {"< 10M": 1e7, "< 100M": 1e8, "< 1B": 1e9, "< 10B": 1e10}
needle = query.strip().lower()
shown = [
    e for e in entries
    if (not needle or needle in " ".join([e.id, e.name, e.family, " ".join(e.tasks), e.description]).lower())
    and (not modalities or e.modality in modalities)
    and (not statuses or availability[e.id].status in statuses)
    and (not task_filter or set(task_filter) & set(e.tasks))
    and (not family_filter or e.family in family_filter)
    and (size_choice == "any" or (e.params is not None and e.params < limits[size_choice]))
]
# a search lists the models it names first (Whisper before a model that mentions Whisper), then by availability
named = {e.id: 0 if needle and needle in f"{e.id} {e.name}".lower() else 1 for e in shown}
table = (frame[frame["id"].isin(set(named))].assign(_named=lambda t: t["id"].map(named))
         .sort_values(["_named", "_status", "Modality", "Year"]))
st.markdown(f"**{len(shown)}** of {len(entries)} models")
st.dataframe(table.drop(columns=["_status", "_named"]), hide_index=True, width="stretch",
             column_config={"Params (M)": st.column_config.NumberColumn(format="%.1f")})

if shown:
    names = {e.id: e.name for e in shown}
    ordered = list(table["id"])
    chosen = setting("catalog", "model").draw(st.selectbox, ordered, format_func=names.get)
    entry = next(e for e in shown if e.id == chosen)
    status = availability[entry.id]
    with st.container(border=True):
        st.subheader(f"{entry.name}")
        st.markdown(f"**{status.label}** — {status.reason}")
        st.write(entry.description)
        facts = st.columns(4)
        facts[0].metric("Parameters", "undisclosed" if entry.params is None else
                        f"{entry.params / 1e6:,.1f} M" if entry.params < 1e9 else f"{entry.params / 1e9:,.1f} B")
        facts[1].metric("Year", entry.year)
        facts[2].metric("Access", entry.access)
        facts[3].metric("Modality", entry.modality)
        if entry.params_note:
            st.caption(f"Parameters: {entry.params_note}")
        st.markdown(f"**Family:** {entry.family} · **Tasks:** {', '.join(entry.tasks)} · "
                    f"**Domain:** {entry.domain} · **Licence:** {entry.license}")
        st.markdown(f"**Reference:** [{entry.paper.title}]({entry.paper.url})")
        if entry.reference_metric:
            m = entry.reference_metric
            st.markdown(f"**Published result:** {m.name} = {m.value:g}"
                        + (f" on {m.dataset}" if m.dataset else "") + f" (source: {m.source})")
        source = f"{entry.source.kind}: `{entry.source.name}`" if entry.source.name else entry.source.kind
        st.markdown(f"**Weights from:** {source}")
        supply_panel(entry, models_dir() or "")
        estimate_panel(entry)
        language, code = code_snippet(entry)
        st.code(code, language=language if language != "text" else None)
else:
    st.info("No model matches these filters. Clear a filter to see more.")
