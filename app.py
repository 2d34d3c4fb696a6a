"""Model Explorer entry point: page config, navigation, and what every page shares (its link, presenter
view, the lesson in progress)."""
from pathlib import Path

# Fully imported before any page runs: Plotly looks pandas up in sys.modules without importing it, so a session
# drawing a chart while another session's thread is still importing pandas got a half-initialised module
# ("partially initialized module 'pandas' has no attribute 'Series'"). An import statement waits for the other
# thread's import to finish; every session passes here first.
import pandas  # noqa: F401
import streamlit as st

from components.core import Refused
from components.ui import keep_widget_state, model_downloads, presenter, share
from components.ui import lessons as lesson_view

ROOT = Path(__file__).parent

# a file, not :material/explore:, which the browser would fetch from fonts.gstatic.com as the favicon
st.set_page_config(page_title="Model Explorer", page_icon=ROOT / "assets" / "favicon.png", layout="wide")
keep_widget_state()

PAGES = {
    "Explore": [("home.py", "Home", ":material/home:"), ("catalog.py", "Catalog", ":material/menu_book:"),
                ("lessons.py", "Lessons", ":material/school:")],
    "Playgrounds": [("vision.py", "Vision", ":material/image:"), ("text.py", "Text", ":material/notes:"),
                    ("speech.py", "Speech", ":material/mic:"), ("multimodal.py", "Multimodal", ":material/hub:")],
    "Measure": [("compare.py", "Compare", ":material/bar_chart:")],
    "Use": [("adapt.py", "Adapt", ":material/model_training:")],
}

navigation = {
    section: [st.Page(ROOT / "app_pages" / file, title=title, icon=icon, default=file == "home.py")
              for file, title, icon in pages if (ROOT / "app_pages" / file).exists()]
    for section, pages in PAGES.items()
}
page = st.navigation({section: pages for section, pages in navigation.items() if pages})
name = share.page_name(page.url_path)
share.restore(name)  # a link's settings, before the page draws its widgets
presenter.style(name)
share.show_notes(name)
lesson_view.panel(name)
try:
    with model_downloads():  # a model loading from the Hub anywhere on the page: size, progress, Cancel, gating
        page.run()
except Refused as refused:  # a run over a visitor's limits (components/core/limits.py): one line, the page stays usable
    st.error(str(refused), icon=":material/block:")
share.publish(name)  # the settings now shown, back into the link
presenter.toggle()
