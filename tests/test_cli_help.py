"""Every CLI's --help opens with its module's whole first paragraph (QA: `python -m components.models --help` stopped
mid-sentence at the docstring's first line break)."""
from __future__ import annotations

import importlib

import pytest

from components.core import description

CLI_MODULES = ("components.models.supply", "components.report.build", "components.estimate.model",
               "components.explain.api", "components.explain.attention", "components.compare.cli",
               "components.adapt.run")


@pytest.mark.parametrize("name", CLI_MODULES)
def test_the_help_description_is_the_first_paragraph_whole(name):
    doc = importlib.import_module(name).__doc__
    text = description(doc)
    assert text == " ".join(doc.strip().split("\n\n")[0].split()) and text.endswith((".", ")", ":")), text
    assert "\n" not in text and len(text) > len(doc.strip().splitlines()[0]) - 1


def test_models_help_prints_the_whole_sentence(capsys):
    from components.models.supply import main

    with pytest.raises(SystemExit):
        main(["--help"])
    assert "listed, removed and verified" in " ".join(capsys.readouterr().out.split())
