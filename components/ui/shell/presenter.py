"""Presenter view: for a projector. Hides the sidebar and the tuning settings, enlarges text and results,
and pins a lesson's Back / Next to the corner of the screen. On in the URL as ``present=1``."""
from __future__ import annotations

import streamlit as st

from components.ui.shell.lessons import current_params
from components.ui.shell.share import PRESENT

PRESENTER = PRESENT.key

# Settings a class does not need to see (each widget's key gives its element the class st-key-<key>), unless the
# lesson step in progress compares them: then they are its subject ("One model, three runtimes").
RUNTIME_PICKERS = '[class*="st-key-keep_"][class*="runtime"]'
SETTINGS = [
    ".st-key-keep_explain_opacity", '[class*="st-key-select_all_"]',
    '[data-testid="stExpander"]:has(.st-key-keep_cmp_runs)', ".st-key-keep_cmp_executor", ".st-key-cmp_ray_address",
    ".st-key-keep_adapt_head", ".st-key-keep_adapt_baseline",
]
CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"], {hidden} {{ display: none !important; }}
html {{ font-size: 20px; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100%; padding: 1.5rem 2.5rem 6rem; }}
[data-testid="stMetricValue"] {{ font-size: 2.6rem; }}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {{ font-size: 1.15rem; }}
.st-key-lesson_nav {{ position: fixed; right: 2rem; bottom: 1.5rem; z-index: 1000; width: auto;
  padding: 0.5rem 0.75rem; border-radius: 0.75rem; background: {background};
  box-shadow: 0 2px 12px rgba(0, 0, 0, 0.25); }}
</style>"""


def hidden_settings(step_params: dict[str, str]) -> list[str]:
    """The CSS selectors of the settings presenter view hides while a step with ``step_params`` is open."""
    compared = len(step_params.get("runtimes", "").split(",")) > 1  # the step compares runtimes: keep them shown
    return SETTINGS + ([] if compared else [RUNTIME_PICKERS])


def presenting() -> bool:
    return bool(st.session_state.get(PRESENTER))


def _leave() -> None:
    st.session_state[PRESENTER] = False


def style(page: str) -> None:
    """In presenter view: ``page``'s style, and the one control that leaves it (the sidebar is hidden)."""
    if not presenting():
        return
    dark = getattr(st.context.theme, "type", None) == "dark"
    st.html(CSS.format(hidden=", ".join(hidden_settings(current_params(page))),
                       background="#0e1117" if dark else "#ffffff"))
    st.button("Leave presenter view", icon=":material/close_fullscreen:", key="presenter_leave",
              type="tertiary", on_click=_leave)


def toggle() -> None:
    """The switch in the sidebar (on every page)."""
    PRESENT.draw(st.sidebar.toggle)
