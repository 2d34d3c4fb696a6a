"""Session state that survives reruns and page switches."""
from __future__ import annotations

import streamlit as st

KEEP_PREFIX = "keep_"


def keep_widget_state() -> None:
    """Re-assign every ``keep_*`` widget value so Streamlit keeps it when its page is not shown."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(KEEP_PREFIX):
            st.session_state[key] = st.session_state[key]
