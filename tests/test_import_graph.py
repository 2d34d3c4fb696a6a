"""No import cycles in components/: every import statement counts, module level or inside a function.

A submodule's implicit import of its parent package is not an edge (that ordering is how packages
work); ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """module -> the modules of ``package`` it imports (anywhere in its body)."""
    files = {module_name(p, root): p for p in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in files else node.module
                           for a in node.names]
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
    imported = import_graph(ROOT, "components")["components.runners.registry"]
    assert {m for m in imported if m.startswith(("components.backends", "components.runners."))} \
        <= {"components.runners.base"}


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
