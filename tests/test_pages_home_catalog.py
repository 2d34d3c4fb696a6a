"""AppTest: Home and Catalog render, filters change the list, a model card opens."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).parents[1] / "app.py"


@pytest.fixture()
def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    return at


def _shown_count(at: AppTest) -> int:
    return len(at.dataframe[0].value)


def test_home_renders_status_counts(app):
    assert not app.exception
    assert app.title[0].value.endswith("Model Explorer")
    metrics = {m.label.split()[-1]: int(m.value) for m in app.metric}  # label: ":green[:material/...:] ready"
    assert metrics["ready"] >= 11  # the offline pack
    assert metrics["api-only"] >= 3  # GPT-3, GPT-4, Gemini, Codex
    assert all(":material/" in m.label for m in app.metric)


def test_catalog_lists_every_model_and_filters(app):
    from components.core.catalog import default_catalog

    app.switch_page("app_pages/catalog.py").run()
    assert not app.exception
    total = len(default_catalog())
    assert _shown_count(app) == total
    app.multiselect(key="keep_cat_modality").set_value(["speech"]).run()
    speech = _shown_count(app)
    assert 0 < speech < total
    assert set(app.dataframe[0].value["Modality"]) == {"speech"}
    app.multiselect(key="keep_cat_status").set_value(["ready"]).run()
    assert 0 < _shown_count(app) < speech
    app.multiselect(key="keep_cat_modality").set_value([]).run()
    app.multiselect(key="keep_cat_status").set_value([]).run()
    app.text_input(key="keep_cat_query").set_value("whisper").run()
    names = list(app.dataframe[0].value["Model"])
    assert sum("Whisper" in n for n in names) >= 3 and "ResNet-50" not in names and len(names) < total / 4
    named = [n for n in names if "whisper" in n.lower()]  # QA: PocketSphinx (it mentions Whisper) came first
    assert names[:len(named)] == named and len(named) < len(names), names
    app.text_input(key="keep_cat_query").set_value("no model is called this").run()
    assert "No model matches" in app.info[0].value


def test_model_card_opens_with_facts_and_snippet(app):
    app.switch_page("app_pages/catalog.py").run()
    app.text_input(key="keep_cat_query").set_value("resnet").run()
    app.selectbox(key="keep_cat_card").set_value("resnet50").run()
    assert not app.exception
    assert any(h.value == "ResNet-50" for h in app.subheader)
    text = " ".join(m.value for m in app.markdown)
    assert "architecture-only" in text and "Deep Residual Learning" in text
    assert "timm" in app.code[0].value or "torchvision" in app.code[0].value


def test_api_only_card_says_why(app):
    app.switch_page("app_pages/catalog.py").run()
    app.text_input(key="keep_cat_query").set_value("gpt-4").run()
    app.selectbox(key="keep_cat_card").set_value("gpt4").run()
    text = " ".join(m.value for m in app.markdown)
    assert "api-only" in text and "never released" in text


def test_estimate_only_card_names_a_command_that_runs(app):
    """The card's estimate-only line names ``python -m X``: X must be runnable (a package with __main__)."""
    import importlib.util
    import re

    app.switch_page("app_pages/catalog.py").run()
    app.text_input(key="keep_cat_query").set_value("llama").run()
    app.selectbox(key="keep_cat_card").set_value("llama2_7b").run()
    text = " ".join(m.value for m in app.markdown)
    assert "estimate-only" in text
    module = re.search(r"python -m ([\w.]+)", text).group(1)
    is_package = importlib.util.find_spec(module).submodule_search_locations is not None
    assert is_package and importlib.util.find_spec(f"{module}.__main__") is not None, module
