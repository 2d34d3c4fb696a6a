"""Text input widget: a text area that keeps its content, .txt upload, bundled samples."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import streamlit as st

from components.core import Checked, InputError, clean_text, decode_text_file
from components.ui.widgets.format import literal

TEXT_DATA = Path(__file__).resolve().parents[3] / "data" / "text"
KEY = "keep_text_input"


def _load_sample(text: str) -> None:
    st.session_state[KEY] = text
    _clear_upload_error()


def _on_upload() -> None:
    upload = st.session_state.get("text_upload")
    if upload is None:  # the file was removed: its error goes with it
        _clear_upload_error()
        return
    try:
        st.session_state[KEY] = decode_text_file(upload.getvalue(), upload.name).data
        st.session_state.pop("text_upload_error", None)
    except InputError as exc:
        st.session_state["text_upload_error"] = str(exc)


def _clear_upload_error() -> None:
    st.session_state.pop("text_upload_error", None)


@lru_cache(maxsize=1)
def english_sample() -> str:
    """The bundled example lines (data/text/samples.txt), read once."""
    return (TEXT_DATA / "samples.txt").read_text(encoding="utf-8").strip()


@lru_cache(maxsize=1)
def multilingual_sample() -> str:
    """One bundled sentence per language from data/text/languages.csv, read once."""
    import csv

    seen: dict[str, str] = {}
    with open(TEXT_DATA / "languages.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            seen.setdefault(row["label"], row["text"])
    return "\n".join(seen.values())


def text_input() -> Checked | None:
    """The text to analyse (one sentence per line), validated; errors shown in the page."""
    st.session_state.setdefault(KEY, english_sample())
    c1, c2, c3 = st.columns([1, 1, 2])
    c1.button("English samples", on_click=_load_sample,
              args=(english_sample(),), width="stretch")
    c2.button("Multilingual samples", on_click=_load_sample, args=(multilingual_sample(),), width="stretch")
    c3.file_uploader("…or a .txt file", type=None, key="text_upload", on_change=_on_upload,
                     label_visibility="collapsed")
    if st.session_state.get("text_upload_error"):
        st.error(literal(st.session_state["text_upload_error"]), icon=":material/warning:")
    text = st.text_area("Text — one sentence per line", key=KEY, height=180,
                        on_change=_clear_upload_error)  # typed text replaces a refused upload
    try:
        return clean_text(text)
    except InputError as exc:
        st.error(literal(exc), icon=":material/warning:")
        return None
