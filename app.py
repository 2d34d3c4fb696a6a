"""Model Explorer entry point: page config and navigation, nothing else."""
from pathlib import Path

import streamlit as st

from components.ui.state import keep_widget_state

ROOT = Path(__file__).parent

st.set_page_config(page_title="Model Explorer", page_icon=":material/explore:", layout="wide")
keep_widget_state()

PAGES = {
    "Explore": [("home.py", "Home", ":material/home:"), ("catalog.py", "Catalog", ":material/menu_book:")],
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
st.navigation({section: pages for section, pages in navigation.items() if pages}).run()
