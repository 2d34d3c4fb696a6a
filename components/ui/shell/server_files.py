"""Folders on the server's disk that a page user may name: only those whoever starts the server shares
(MODEL_EXPLORER_DATA_ROOTS). Compare's sets and the sidebar's "Folder with local weights" both pass here, so
a classroom server never lets its users read (or load weights from) the rest of its disk."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from components.datasets import within
from components.models import MODELS_DIR_ENV
from components.ui.widgets.format import literal

DATA_ROOTS_ENV = "MODEL_EXPLORER_DATA_ROOTS"
MODELS_DIR_KEY = "keep_models_dir"
MODELS_DIR_LABEL = "Folder with local weights (optional)"


def data_roots() -> list[Path]:
    """The folders whose files this server lets its users name (MODEL_EXPLORER_DATA_ROOTS, os.pathsep-separated)."""
    return [Path(part).expanduser().resolve() for part in os.environ.get(DATA_ROOTS_ENV, "").split(os.pathsep)
            if part.strip()]


def shared_path(text: str) -> Path | None:
    """``text`` as a path (``~`` expanded, symlinks resolved) when it lies inside the shared folders; else None,
    an unreadable name (a NUL byte) included."""
    try:
        path = Path(text.strip()).expanduser().resolve()
        return path if text.strip() and within(path, data_roots()) else None
    except (OSError, ValueError, RuntimeError):
        return None


def models_dir() -> str | None:
    """The weights folder named in the sidebar, resolved, when it lies inside the shared folders; else None
    (every model load and availability check looks there)."""
    folder = shared_path(str(st.session_state.get(MODELS_DIR_KEY, "")))
    return None if folder is None else str(folder)


def models_dir_input(help_text: str) -> None:
    """The sidebar's weights-folder field: off (disabled, saying why) when the server shares no folder, and a
    warning when the folder typed lies outside the shared ones."""
    roots = data_roots()
    if not roots:
        st.text_input(MODELS_DIR_LABEL, key=MODELS_DIR_KEY, disabled=True, placeholder="off on this server",
                      help=f"Off: whoever starts the server names weights folders for everyone in {MODELS_DIR_ENV}, "
                           f"and the folders users may name here in {DATA_ROOTS_ENV} (README, Configuration).")
        return
    shared = ", ".join(str(root) for root in roots)
    folder = st.text_input(MODELS_DIR_LABEL, key=MODELS_DIR_KEY, placeholder=f"a folder in {shared}",
                           help=f"{help_text} Inside {shared}.").strip()
    if folder and models_dir() is None:
        st.warning(f"{literal(folder)} is outside the folders this server shares ({literal(shared)}): "
                   "it is not searched.", icon=":material/lock:")
