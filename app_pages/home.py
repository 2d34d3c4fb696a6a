"""Home: what Model Explorer is, what runs on this machine right now, where to start."""
from collections import Counter
from pathlib import Path

import streamlit as st

from components.core import endpoint_line, network_available
from components.models import READY, STATUS_ICONS, STATUS_ORDER
from components.ui import availability_map, catalog_or_stop, models_dir

PAGES = Path(__file__).parent

st.title(":material/explore: Model Explorer")
st.markdown(
    "Pick **pre-trained models** from a curated catalog of landmark models, feed them your own image, "
    "text or audio, and see what each one says — and what it costs: latency, memory, size and accuracy, "
    "side by side. Pre-trained models are trained once on huge datasets and reused: as **feature "
    "extractors**, as a starting point for **fine-tuning** on your own data, or **zero-shot**, with no "
    "training at all."
)

entries = catalog_or_stop()
availability = availability_map(models_dir() or "")
counts = Counter(availability[e.id].status for e in entries)
online = network_available()

st.subheader("What runs here right now")
cols = st.columns(len(STATUS_ORDER))
for col, status in zip(cols, STATUS_ORDER):
    col.metric(f"{STATUS_ICONS[status]} {status}", counts.get(status, 0))
st.caption(
    (":material/public: The Hugging Face Hub is reachable: hub models download on first use. " if online else
     ":material/cloud_off: No network: the app runs the **offline pack** — real pre-trained models that ship "
     "inside Python packages — and measures the cost of other architectures with random weights. ")
    + f"{len(entries)} models in the catalog."
)
st.caption(endpoint_line(online))

ready = [e for e in entries if availability[e.id].status == READY]
by_modality: dict[str, list[str]] = {}
for e in ready:
    by_modality.setdefault(e.modality, []).append(e.name)

st.subheader("Start")
START = [("vision", ":material/image: Vision", "vision.py", "Classify a photo, read text in an image."),
         ("text", ":material/notes: Text", "text.py", "Similarity, zero-shot labels, language, sentiment, tokens."),
         ("speech", ":material/mic: Speech", "speech.py", "Transcribe a clip, find where speech is."),
         ("multimodal", ":material/hub: Multimodal", "multimodal.py", "Label a photo with your own words.")]
cols = st.columns(len(START))
for col, (modality, label, page, blurb) in zip(cols, START):
    with col.container(border=True):
        st.markdown(f"**{label}**")
        st.caption(blurb)
        names = by_modality.get(modality, [])
        st.caption("Ready: " + (", ".join(names) if names else "none on this machine"))
        if (PAGES / page).exists():
            st.page_link(f"app_pages/{page}", label=f"Open {label.split(' ', 1)[1]}", icon=":material/play_arrow:")

if (PAGES / "compare.py").exists():
    st.page_link("app_pages/compare.py", label="Compare models on labelled data: accuracy vs latency, memory, size",
                 icon=":material/bar_chart:")
st.page_link("app_pages/catalog.py", label="Browse the whole catalog", icon=":material/menu_book:")

with st.expander("Limitations of pre-trained models — worth saying out loud in class"):
    st.markdown(
        "- **Domain mismatch**: a model trained on web photos may fail on X-rays or satellite images.\n"
        "- **Bias and fairness**: models inherit the biases of their training data.\n"
        "- **Compute cost**: the largest models (GPT-4, Gemini) need data-centre hardware — compare the "
        "parameter counts in the catalog.\n"
        "- **Explainability**: it is hard to say why a deep network decided what it did."
    )
