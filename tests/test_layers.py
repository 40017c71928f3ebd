"""No import cycle anywhere in the project, across apps included (issue 11).

The import-linter contracts (pyproject.toml, run by `make lint`) keep the layers and the
modules of each package acyclic; this walks the whole module graph, function-local imports
included, so a cycle that passes through an allowed exception (an app's HTTP views using the
plumbing) or hides inside a function fails too.
"""

from __future__ import annotations

from collections.abc import Iterator

import grimp

ROOTS = (
    "config",
    "apidocs",
    "api",
    "privacy",
    "documents",
    "webhooks",
    "backoffice",
    "users",
    "risk",
    "programs",
    "enumerations",
    "core",
)


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def imports_of(module: str) -> Iterator[str]:
        return iter(sorted(graph.find_modules_directly_imported_by(module)))

    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, imports_of(root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph(*ROOTS, include_external_packages=False)
    assert import_cycles(graph) == []


def test_a_cycle_is_found() -> None:
    """The check itself: a cycle through three modules of different apps is reported."""
    graph = grimp.ImportGraph()
    for module in ("users.a", "api.b", "risk.c", "core.d"):
        graph.add_module(module)
    graph.add_import(importer="users.a", imported="api.b")
    graph.add_import(importer="api.b", imported="risk.c")
    graph.add_import(importer="risk.c", imported="users.a")
    graph.add_import(importer="risk.c", imported="core.d")
    assert import_cycles(graph) == [["api.b", "risk.c", "users.a"]]
