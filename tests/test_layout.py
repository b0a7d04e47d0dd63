"""The package's layout as a test: imports flow one way, and nothing reaches into another
package's private modules, names or methods (STYLE.md item 1).

Parses every module of ``tunnelframe/`` with :mod:`ast` (imports under ``if TYPE_CHECKING:``
are annotations, not dependencies, and are left out).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tunnelframe"

#: Shared private leaves: any layer may import them, and they import only each other.
LEAVES = {
    "_io",
    "_text",
    "_version",
    "_errors",
    "_checks",
    "_types",
    "_protocol",
    "_ratelimit",
    "_policy",
    "_data",
    "_versionorder",
}

#: Layers, lowest first; a unit may import its own layer's leaves and anything below it.
#: ``snapshot`` sits above ``frames``: a Snapshot's frame views (``snap.connections()``) use
#: frames, and frames know no HTTP and no snapshot.
LAYERS: list[set[str]] = [
    {"client"},
    {"frames"},
    {"fetch", "snapshot"},
    {"versions", "colos", "simulator", "datasets"},
    {"history"},
    {"plotting"},
    {"report", "metrics", "alerts"},
    {"tunnelframe"},  # the package root re-exports everything
    {"cli"},  # uses the root's names (tf.fetch_fleet, ...)
    {"__main__"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str:
    """``tunnelframe.frames._payload`` -> ``frames``; the root is ``tunnelframe``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "tunnelframe"


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> list[tuple[str, list[str]]]:
    """(module, names) of every run-time import of a tunnelframe module."""
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tunnelframe":
                    found.append((alias.name, []))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "tunnelframe"
        ):
            found.append((node.module, [alias.name for alias in node.names]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, list[tuple[str, list[str]]]]:
    return {
        _module_of(path): _imports(ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


GRAPH = _graph()


def _target(module: str, name: str) -> str:
    """``from tunnelframe import plotting`` imports the module ``tunnelframe.plotting``."""
    candidate = f"{module}.{name}"
    return candidate if candidate in GRAPH else module


def _edges() -> list[tuple[str, str, list[str]]]:
    edges = []
    for source, imports in GRAPH.items():
        for module, names in imports:
            targets = {_target(module, n) for n in names} if names else {module}
            for target in sorted(targets):
                edges.append((source, target, names))
    return edges


def test_every_unit_has_a_layer() -> None:
    units = {_unit(module) for module in GRAPH}
    assert units - LEAVES - set(RANK) == set()


def test_no_cycle_between_units() -> None:
    deps: dict[str, set[str]] = {}
    for source, target, _ in _edges():
        a, b = _unit(source), _unit(target)
        if a != b:
            deps.setdefault(a, set()).add(b)

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for nxt in deps.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    cycles = sorted(unit for unit in deps if unit in reach(unit))
    assert cycles == []


def test_imports_flow_from_lower_layers_up() -> None:
    upward = []
    for source, target, _ in _edges():
        a, b = _unit(source), _unit(target)
        if a == b or b in LEAVES:
            continue
        if a in LEAVES or RANK[b] > RANK[a]:
            upward.append(f"{source} imports {target}")
    assert upward == []


def test_no_import_of_another_units_private_modules_or_names() -> None:
    private = []
    for source, imports in GRAPH.items():
        for module, names in imports:
            # ``from tunnelframe import plotting`` imports a module; other names are names.
            modules = {_target(module, name) for name in names} | ({module} if not names else set())
            imported = [name for name in names if _target(module, name) == module]
            for target in sorted(modules | ({module} if imported else set())):
                unit = _unit(target)
                if unit == _unit(source) or unit in LEAVES:
                    continue  # its own package, or a shared leaf
                if any(part.startswith("_") for part in target.split(".")[1:]):
                    private.append(f"{source} imports {target}")
                if target == module:
                    for name in imported:
                        if name.startswith("_") and name != "__version__":
                            private.append(f"{source} imports {name} from {module}")
    assert private == []


# A call ``x._name(`` where x is neither self nor cls: another object's private method.
_PRIVATE_CALL = re.compile(r"\b(?!self\b|cls\b|super\(\)\.)([A-Za-z_][\w.]*)\._[a-z]\w*\(")


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_call_of_another_objects_private_method(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    # Classes of one module may work together (a request handler and its server); a private
    # method defined elsewhere is another module's business. Leaves are shared modules.
    defined_here = {
        node.name
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    calls = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#")[0]
        for match in _PRIVATE_CALL.finditer(code):
            receiver = match.group(1)
            method = match.group(0).rsplit(".", 1)[1][:-1]
            if receiver.split(".")[0] in {"self", "cls", *LEAVES} or method in defined_here:
                continue
            calls.append(f"{path.name}:{number}: {code.strip()}")
    assert calls == []
