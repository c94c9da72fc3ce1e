"""The package's import map: its modules by layer, the import circles and the imports that point
up a layer. Run it to print them (`python -m tests.import_map`); tests/test_layers.py holds the
layout to them.

Only imports that run are counted: those under ``if TYPE_CHECKING:`` are for the type checker.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "checkin"

# Lower numbers sit lower; an import may point at its own layer or below. The app factory
# (`checkin`) wires everything, so it sits on top.
LAYERS = {
    "checkin.extensions": 0,
    "checkin.domain": 0,
    "checkin.models": 1,
    "checkin.migrations": 1,
    "checkin.services": 2,
    "checkin.words": 3,
    "checkin.web": 4,
    "checkin.cli": 4,
    "checkin": 5,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    raise KeyError(module)


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that `path` imports when it runs."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and is_type_checking(node):
                visit(node.orelse)
                continue
            for child in ast.walk(node) if not isinstance(node, ast.If) else [node]:
                if isinstance(child, ast.Import):
                    found.update(alias.name for alias in child.names)
                elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                    submodules = {f"{child.module}.{alias.name}" for alias in child.names} & modules
                    found.update(submodules)
                    if len(submodules) < len(child.names):  # a name defined in the module itself
                        found.add(child.module)
            if isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)

    visit(ast.parse(path.read_text()).body)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    paths = {
        module_name(path): path for path in PACKAGE.rglob("*.py") if "versions" not in path.parts
    }
    modules = set(paths)
    return {name: imports_of(path, modules) - {name} for name, path in sorted(paths.items())}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            connect(node)
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a module to one in a higher layer."""
    return sorted(
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if LAYERS[layer_of(target)] > LAYERS[layer_of(source)]
        and not target.startswith(source + ".")  # a package's __init__ may gather its modules
    )


def main() -> None:
    graph = import_graph()
    by_layer: dict[str, list[str]] = defaultdict(list)
    for module in graph:
        by_layer[layer_of(module)].append(module)
    print("Modules by layer:")
    for layer in sorted(by_layer, key=lambda name: (LAYERS[name], name)):
        print(f"  {layer} ({len(by_layer[layer])}): {', '.join(by_layer[layer])}")
    print("Import circles:", circles(graph) or "none")
    print("Upward imports:", upward_imports(graph) or "none")


if __name__ == "__main__":
    main()
