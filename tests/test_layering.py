"""The contexts' dependency graph: every import goes down the declared layers, and there is no cycle.

A context is a top-level package or module under ``backend/`` (``backend/cases/…`` → ``cases``,
``backend/db.py`` → ``db``); a ``__main__`` module is a process's entry point and belongs to the
entry layer whatever package it is in. Every import counts, including those inside functions:
an import moved into a function to dodge a cycle is still a dependency. The layering below is the
one declared place; docs/architecture.md ("Dependency graph") draws the same graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parent.parent / "backend"

# Lowest first. A context may import contexts of its own layer or of a lower one; the graph as a
# whole must still be acyclic, so two contexts of one layer never import each other both ways.
LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"settings", "lib"}),
    ("infrastructure", {"db", "jobs", "platform", "fixtures", "preflight"}),
    ("reference data", {"catalog", "registration"}),
    ("identity", {"identity"}),
    ("agency systems", {"connectors"}),
    ("agency wiring", {"integration"}),
    ("cases", {"cases"}),
    ("around a case", {"notifications", "ratings", "integrations", "devicebridge", "links"}),
    ("staff work", {"workbench", "feedback", "stats"}),
    ("operations", {"administration", "system"}),
    ("test environment", {"sandbox"}),
    ("entry", {"app", "piccolo_conf", "keys", "__main__"}),
]
LAYER_OF = {context: n for n, (_, contexts) in enumerate(LAYERS) for context in contexts}
ENTRY = "__main__"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def context_of(module: str) -> str | None:
    """The context of ``backend.x.y`` (``x``); None for the ``backend`` package itself."""
    parts = module.split(".")
    if parts[0] != "backend" or len(parts) < 2:
        return None
    if parts[-1] == ENTRY:
        return ENTRY
    return parts[1]


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> Iterable[tuple[str, int]]:
    """Every module ``tree`` imports (at any depth, inside functions too), with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == "backend":  # from backend import cases, db: each name is a context
                for alias in node.names:
                    yield f"backend.{alias.name}", node.lineno
            else:
                yield target, node.lineno


def context_imports(root: Path = BACKEND) -> dict[tuple[str, str], list[str]]:
    """(importing context, imported context) → where (``path:line``), for every pair of distinct contexts."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        source = context_of(module)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for target, line in imported_modules(tree, module, path.name == "__init__.py"):
            destination = context_of(target)
            if destination is not None and destination != source:
                edges.setdefault((source, destination), []).append(f"{path.relative_to(root.parent)}:{line}")
    return edges


def upward(edges: Iterable[tuple[str, str]], layer_of: Mapping[str, int]) -> list[tuple[str, str]]:
    """The edges that import a context of a higher layer."""
    return sorted((a, b) for a, b in edges if layer_of[b] > layer_of[a])


def find_cycle(edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """One cycle of the directed graph (``[a, b, …, a]``), or None if it is acyclic."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


# ---- the backend as it is ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def edges() -> dict[tuple[str, str], list[str]]:
    return context_imports()


def test_every_context_has_a_layer(edges):
    contexts = {c for pair in edges for c in pair} | {
        context_of(module_name(p, BACKEND)) for p in BACKEND.rglob("*.py")
    } - {None}
    assert sorted(c for c in contexts if c not in LAYER_OF) == []
    assert sorted(c for c in LAYER_OF if c not in contexts) == [], "a declared context that no longer exists"


def test_no_context_imports_a_higher_layer(edges):
    found = {pair: edges[pair] for pair in upward(edges, LAYER_OF)}
    assert found == {}, "imports up the layers (declare a Protocol or seam below; app.py plugs it in)"


def test_the_context_graph_has_no_cycle(edges):
    assert find_cycle(edges) is None


def test_imports_inside_functions_count(tmp_path):
    package = tmp_path / "backend"
    (package / "low").mkdir(parents=True)
    (package / "high").mkdir()
    (package / "__init__.py").write_text("")
    (package / "high" / "__init__.py").write_text("from backend.low import thing\n")
    (package / "low" / "__init__.py").write_text("def thing():\n    from backend.high import other\n")
    (package / "low" / "__main__.py").write_text("from ..high import other\n")
    found = context_imports(package)
    assert set(found) == {("high", "low"), ("low", "high"), ("__main__", "high")}
    assert found[("low", "high")] == ["backend/low/__init__.py:2"]
    assert find_cycle(found) == ["high", "low", "high"]
    assert upward(found, {"low": 0, "high": 1, "__main__": 2}) == [("low", "high")]


def test_the_architecture_document_draws_this_graph(edges):
    text = (BACKEND.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Dependency graph", 1)[1].split("\n## ", 1)[0]
    diagram = section.split("```mermaid", 1)[1].split("```", 1)[0]
    drawn = {
        tuple(ENTRY if c.strip() == "main" else c.strip() for c in line.split("-->"))
        for line in diagram.splitlines()
        if "-->" in line
    }
    lowest = LAYERS[0][1] | LAYERS[1][1]
    assert drawn == {pair for pair in edges if pair[1] not in lowest}
    for n, (name, contexts) in enumerate(LAYERS):
        assert f"| {n} | {name} | {', '.join(sorted(contexts))} |" in section


# ---- the checks themselves can fail --------------------------------------------------------------


def test_a_cycle_is_found():
    assert find_cycle([("cases", "workbench"), ("workbench", "ratings"), ("ratings", "cases")]) == [
        "cases",
        "workbench",
        "ratings",
        "cases",
    ]
    assert find_cycle([("identity", "identity")]) == ["identity", "identity"]


def test_an_acyclic_graph_passes():
    assert find_cycle([("app", "cases"), ("cases", "identity"), ("app", "identity"), ("cases", "lib")]) is None


def test_an_import_up_the_layers_is_found():
    assert upward([("cases", "workbench"), ("workbench", "cases")], {"cases": 6, "workbench": 8}) == [
        ("cases", "workbench")
    ]
