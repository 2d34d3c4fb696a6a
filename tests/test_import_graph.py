"""The layering of components/ as tests: no import cycles, and the rules of the Layout (README).

Every import statement counts, module level or inside a function. A submodule's implicit import of its
parent package is not an edge (that ordering is how packages work); ``from pkg import name`` is an edge to
``pkg.name`` when that is a module, to the module a face's export table names when ``pkg`` is a face, else
to ``pkg``. Each rule has a test that builds a small tree breaking it and sees it reported.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def face_exports(path: Path) -> dict[str, str]:
    """A face's export table (``lazy_face(__name__, {name: "submodule"})``): name -> submodule."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "lazy_face":
            table = ast.literal_eval(node.args[1])
            return {name: target.partition(":")[0] for name, target in table.items()}
    return {}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every absolute import in a file; ``import a.b`` gives ("a.b", [])."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """module -> the modules of ``package`` it imports (anywhere in its body)."""
    files = {module_name(p, root): p for p in (root / package).rglob("*.py")}
    faces = {name: face_exports(path) for name, path in files.items() if path.name == "__init__.py"}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for module, names in imports(path):
            targets = [module] if not names else [
                f"{module}.{n}" if f"{module}.{n}" in files
                else f"{module}.{faces[module][n]}" if n in faces.get(module, {}) else module for n in names]
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_components_have_no_import_cycle():
    graph = import_graph(ROOT, "components")
    assert len(graph) > 30  # the walk saw the package
    assert cycles(graph) == []


def test_the_walk_finds_a_cycle_through_a_function_level_import(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import thing\n")
    (pkg / "b.py").write_text("thing = 1\n\ndef later():\n    from pkg import a\n    return a\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    assert cycles(import_graph(tmp_path, "pkg")) == [["pkg.a", "pkg.b"]]


def test_the_registry_imports_no_runner_or_engine():
    """Only the Runner contract (for type hints); engines register into it, never the reverse."""
    imported = import_graph(ROOT, "components")["components.models.registry"]
    assert {m for m in imported if m.startswith(("components.models.loaders", "components.models.runners."))} \
        <= {"components.models.runners.base"}


def test_app_imports_pandas_before_any_page_can_draw_a_chart():
    """Plotly reads pandas from sys.modules without importing it: a session drawing a chart while another
    session's thread was mid-way through importing pandas crashed (CI, four sessions at once). app.py imports
    pandas first, so every session waits for the whole module before its page runs."""
    body = ast.parse((ROOT / "app.py").read_text(encoding="utf-8")).body
    first_pandas = next(i for i, node in enumerate(body) if isinstance(node, ast.Import)
                        and any(alias.name == "pandas" for alias in node.names))
    first_components = next(i for i, node in enumerate(body) if isinstance(node, ast.ImportFrom)
                            and (node.module or "").startswith("components"))
    assert first_pandas < first_components


# ---- the Layout's rules -------------------------------------------------------------------------------------

PACKAGES = ("core", "estimate", "models", "datasets", "compare", "explain", "adapt", "report", "viz", "serve", "ui")
NOT_CORE = ("torch", "streamlit", "transformers", "timm", "torchvision")


def top_package(module: str) -> str | None:
    """``components.models`` for ``components.models.runners.base``; None outside the packages."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and parts[0] == "components" and parts[1] in PACKAGES else None


def component_files(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in (root / "components").rglob("*.py")}


def page_files(root: Path) -> dict[str, Path]:
    pages = {module_name(p, root): p for p in (root / "app_pages").glob("*.py")}
    if (root / "app.py").exists():
        pages["app"] = root / "app.py"
    return pages


def page_violations(root: Path) -> list[str]:
    """Pages (and app.py) import only package faces (``components.ui`` among them)."""
    faces = {f"components.{name}" for name in PACKAGES}
    return [f"{page} imports {module}" for page, path in page_files(root).items()
            for module, _ in imports(path) if module.startswith("components") and module not in faces]


def streamlit_violations(root: Path) -> list[str]:
    """Only components/ui/ (and the pages) import streamlit."""
    return [f"{name} imports {module}" for name, path in component_files(root).items()
            if top_package(name) != "components.ui"
            for module, _ in imports(path) if module.split(".")[0] == "streamlit"]


def loader_violations(root: Path) -> list[str]:
    """Loaders never import runners (a runner wraps a loader's model, never the reverse)."""
    graph = import_graph(root, "components")
    return [f"{name} imports {target}" for name, targets in graph.items()
            if name.startswith("components.models.loaders")
            for target in targets if target.startswith("components.models.runners")]


def core_violations(root: Path) -> list[str]:
    """The core imports no other package of components, and neither torch nor streamlit."""
    found = []
    for name, path in component_files(root).items():
        if top_package(name) != "components.core":
            continue
        for module, _ in imports(path):
            other = top_package(module)
            if (other and other != "components.core") or module.split(".")[0] in NOT_CORE:
                found.append(f"{name} imports {module}")
    return found


def door_violations(root: Path) -> list[str]:
    """From outside a package, its face (``components.<package>``) is the only way in."""
    found = []
    for name, path in component_files(root).items():
        mine = top_package(name)
        for module, _ in imports(path):
            theirs = top_package(module)
            if theirs and theirs != mine and module != theirs:
                found.append(f"{name} imports {module}")
    return found


RULES = [page_violations, streamlit_violations, loader_violations, core_violations, door_violations]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_code_keeps_the_rule(rule):
    assert rule(ROOT) == []


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """A small project: components/ with every package's face, plus ``files``."""
    for package in PACKAGES:
        (tmp_path / "components" / package).mkdir(parents=True)
        (tmp_path / "components" / package / "__init__.py").write_text("")
    (tmp_path / "components" / "__init__.py").write_text("")
    for rel, body in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    return tmp_path


BROKEN = {  # each rule, and a file that breaks it
    page_violations: ("app_pages/vision.py", "from components.models.factory import create_runner\n"),
    streamlit_violations: ("components/compare/charts.py", "import streamlit as st\n"),
    loader_violations: ("components/models/loaders/vision.py", "from components.models.runners.base import Runner\n"),
    core_violations: ("components/core/catalog.py", "def later():\n    import torch\n"),
    door_violations: ("components/explain/cam.py", "from components.models.runners.base import Runner\n"),
}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_each_rule_reports_a_deliberate_violation(tmp_path, rule):
    rel, body = BROKEN[rule]
    files = {rel: body, "components/models/runners/__init__.py": "", "components/models/runners/base.py": "",
             "components/models/loaders/__init__.py": "", "components/models/factory.py": ""}
    broken = tree(tmp_path, files)
    assert len(rule(broken)) == 1
    (broken / rel).write_text("")
    assert rule(broken) == []


def test_a_face_export_is_an_edge_to_its_module(tmp_path):
    """A cycle through a lazy face is still a cycle."""
    root = tree(tmp_path, {
        "components/models/__init__.py": 'from components import lazy_face\n__getattr__, __dir__ = '
                                         'lazy_face(__name__, {"create_runner": "factory"})\n',
        "components/models/factory.py": "from components.compare import run\n",
        "components/compare/__init__.py": 'from components import lazy_face\n__getattr__, __dir__ = '
                                          'lazy_face(__name__, {"run": "runs"})\n',
        "components/compare/runs.py": "def run():\n    from components.models import create_runner\n",
    })
    assert cycles(import_graph(root, "components")) == [["components.compare.runs", "components.models.factory"]]


def test_no_face_exports_a_name_its_package_has_a_module_of():
    """Once ``components.compare.evaluate`` (a module) was imported, ``from components.compare import evaluate``
    gave the module, not the function (the import system sets a package attribute per loaded submodule)."""
    clashes = []
    for init in (ROOT / "components").rglob("__init__.py"):
        modules = {p.stem for p in init.parent.glob("*.py")} | {p.name for p in init.parent.iterdir() if p.is_dir()}
        clashes += [f"{init.parent.name}.{name}" for name, target in face_exports(init).items()
                    if name in modules and target != name]
    assert clashes == []
