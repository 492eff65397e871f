"""The packages' import rules (docs/architecture.md), read from the source: every import
statement counts, at module level or inside a function, so a circle cannot hide in a late import.

- `gait` (the core: store, artifacts, rpc, config, video, joints, the analysis library) imports
  nothing of the services, the flows or the command line;
- each service imports the core and itself only;
- the flows import the core and the flows (they reach the services over gRPC);
- `gaitcli` (the command line and the local runtime) may import everything; nothing imports it;
- no module imports itself back through others (a package's `__init__` counts as a module).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gait", "gaitcli", "flows", "services")
GENERATED = ("gait.v1",)  # protoc's modules


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = _module_name(path)
            if not name.startswith(GENERATED):
                found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import names (`a.b.c` may be module `a.b` and its attribute `c`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:  # a submodule by name, else a name the module defines
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    resolved = {_resolve(name) for name in names if name.split(".")[0] in PACKAGES}
    # importing `a.b.c` runs the packages `a` and `a.b` first: an edge to a parent is not a choice
    return {name for name in resolved if name and name != module and not module.startswith(name + ".")}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _allowed(importer: str, imported: str) -> bool:
    top, imported_top = importer.split(".")[0], imported.split(".")[0]
    if top == "gaitcli":
        return True
    if imported_top == "gait":
        return True
    if top == "services":
        return imported.split(".")[:2] == importer.split(".")[:2]
    if top == "flows":
        return imported_top == "flows"
    return False  # the core imports only the core


def test_imports_run_one_way():
    wrong = sorted(f"{importer} imports {imported}" for importer, imports in GRAPH.items()
                   for imported in imports if not _allowed(importer, imported))
    assert not wrong, "\n".join(wrong)


def _cycle_from(start: str) -> list[str] | None:
    stack, seen = [(start, [start])], set()
    while stack:
        module, path = stack.pop()
        for imported in sorted(GRAPH.get(module, ())):
            if imported == start:
                return path + [start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, path + [imported]))
    return None


def test_no_import_circles():
    cycles = {tuple(cycle) for module in GRAPH if (cycle := _cycle_from(module))}
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in sorted(cycles))


@pytest.mark.parametrize("package", ["gait", "services", "flows"])
def test_nothing_imports_the_command_line(package):
    users = sorted(importer for importer, imports in GRAPH.items() if importer.split(".")[0] == package
                   and any(name.startswith("gaitcli") for name in imports))
    assert not users, users
