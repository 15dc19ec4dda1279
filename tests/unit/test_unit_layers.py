"""The import graph of the product packages has no cycle and no arrow from a lower layer to a higher one.

Every import counts: at the top, inside a function, under ``TYPE_CHECKING`` (a late import is how an upward
arrow hides). The layer order is the one docs/architecture.md draws; change both together.
"""
from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "core", "ingest", "vectorstore", "prompts", "train")

# Bottom to top. A module's layer is that of its longest matching pattern; it may import its own layer
# (without a cycle) and those below. ``<pkg>.__init__`` is the package itself (``from app import Assistant``).
LAYERS = [
    ("text", ["core.language", "core.injection", "core.text", "core.question"]),  # plain-text helpers every layer uses
    ("base", ["core", "core.*", "prompts", "prompts.*"]),  # settings, errors, model loaders, prompt files
    ("store", ["vectorstore", "vectorstore.*"]),  # Chroma chunks, keyword index, retrieval
    ("ingest", ["ingest", "ingest.*"]),  # files to chunks in the store
    ("answering", ["app.*"]),  # the chat service, checker, citations, follow-ups
    ("entry", ["app.__init__", "app.api", "app.documents", "app.server", "app.http_*", "app.web*",
               "app.__main__", "ingest.__main__", "train", "train.*"]),  # facade, web, HTTP, CLIs, the train lab
]


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def layer_of(module: str) -> int:
    """Index in LAYERS of the longest pattern the module matches; a module no pattern names fails."""
    matches = [(len(pat), i) for i, (_, pats) in enumerate(LAYERS) for pat in pats if fnmatch.fnmatchcase(module, pat)]
    assert matches, f"{module} is in no layer: add it to LAYERS here and in docs/architecture.md"
    return max(matches)[1]


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The project module an imported name lands in (a package is its ``__init__``), or None if outside."""
    while name:
        for candidate in (name, name + ".__init__"):
            if candidate in known:
                return candidate
        name = name.rpartition(".")[0]
    return None


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name the module imports, relative imports made absolute."""
    package = module.rpartition(".")[0] if not module.endswith(".__init__") else module[: -len(".__init__")]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph = {}
    for module, path in known.items():
        targets = {resolve(name, known) for name in imported_names(module, path)}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle as a path of modules, or [] when the graph is acyclic (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return []


def test_the_graph_sees_the_project():
    graph = import_graph()
    assert "vectorstore.keyword" in graph["vectorstore.store"] and "app.chat" in graph["app.api"]


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_no_import_from_a_lower_layer_to_a_higher_one():
    upward = [f"{m} ({LAYERS[layer_of(m)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})"
              for m, targets in import_graph().items() for t in sorted(targets) if layer_of(t) > layer_of(m)]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_the_checks_catch_a_cycle_and_an_upward_arrow():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
    assert layer_of("vectorstore.analysis") < layer_of("app.chat") < layer_of("app.web")
    assert layer_of("core.language") < layer_of("core.settings") and layer_of("ingest.__main__") == len(LAYERS) - 1
