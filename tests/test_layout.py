"""The package's layout as a test: imports flow one way, and nothing reaches into another
package's private modules, names or methods (STYLE.md item 1).

Parses every module of ``tunnelframe/`` with :mod:`ast`: absolute and relative imports,
``importlib.import_module``/``__import__`` of a string (an import of a computed name fails),
imports inside functions, and ``getattr(x, "_name")``-style access to private attributes.
No cycle is allowed, not even between two modules of one package. Imports under
``if TYPE_CHECKING:`` are annotations, not dependencies, and are left out.
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
    "_refresh",
    "_fleetfile",
    "_listfilters",
    "_deprecate",
}

#: Layers, lowest first; a unit may import its own layer's leaves and anything below it.
#: ``snapshot`` sits above ``frames``: a Snapshot's frame views (``snap.connections()``) use
#: frames, and frames know no HTTP and no snapshot.
LAYERS: list[set[str]] = [
    {"client"},
    {"frames"},
    {"fetch", "fetch_routing", "snapshot"},
    {"versions", "colos", "serving", "simulator", "datasets"},
    {"history"},
    {"engine"},  # the judging engine: rules, findings, check, diff, fix-first ranking
    {"plotting", "metrics", "alerts"},  # metrics and alerts: the engine's answers, exported
    {"report"},
    {"watch"},  # refreshes, stores and diffs: above history and the judging engine
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


#: Calls that import a module named by a string: ``importlib.import_module("tunnelframe.x")``.
_DYNAMIC_IMPORTS = {"import_module", "__import__"}
#: Built-ins that reach an attribute named by a string: ``getattr(x, "_private")``.
_NAMED_ACCESS = {"getattr", "setattr", "hasattr", "delattr"}


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    """``from ..x import y`` in ``module`` as an absolute module name."""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([name] if name else [])])


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, list[str]]]:
    """(module, names) of every run-time import of a tunnelframe module: ``import``, ``from``
    (absolute or relative) and ``importlib.import_module``/``__import__`` of a string."""
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
        elif isinstance(node, ast.ImportFrom):
            source = (
                _absolute(module, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            if source.split(".")[0] == "tunnelframe":
                found.append((source, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Call) and _call_name(node) in _DYNAMIC_IMPORTS and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if arg.value.split(".")[0] == "tunnelframe":
                    found.append((arg.value, []))
            else:
                found.append(("<dynamic>", [ast.unparse(arg)]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, list[tuple[str, list[str]]]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = _imports(tree, module, path.name == "__init__.py")
    return graph


GRAPH = _graph()


def _target(module: str, name: str) -> str:
    """``from tunnelframe import plotting`` imports the module ``tunnelframe.plotting``."""
    candidate = f"{module}.{name}"
    return candidate if candidate in GRAPH else module


def _edges() -> list[tuple[str, str, list[str]]]:
    edges = []
    for source, imports in GRAPH.items():
        for module, names in imports:
            if module == "<dynamic>":
                continue
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
            if module == "<dynamic>":
                continue
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


def test_the_layout_test_sees_every_form_of_import() -> None:
    """Relative imports, ``importlib`` and ``__import__`` are imports too."""
    code = (
        "from .._io import atomic_write\n"
        "from . import _layout\n"
        "from ._facts import derive_facts\n"
        "import importlib\n"
        "def f():\n"
        "    importlib.import_module('tunnelframe.report')\n"
        "    __import__('tunnelframe.cli')\n"
        "    importlib.import_module(name)\n"
    )
    found = _imports(ast.parse(code), "tunnelframe.history._store", False)
    assert found == [
        ("tunnelframe._io", ["atomic_write"]),
        ("tunnelframe.history", ["_layout"]),
        ("tunnelframe.history._facts", ["derive_facts"]),
        ("tunnelframe.report", []),
        ("tunnelframe.cli", []),
        ("<dynamic>", ["name"]),
    ]
    # In a package's __init__, "." is the package itself.
    assert _imports(ast.parse("from ._core import x"), "tunnelframe.colos", True) == [
        ("tunnelframe.colos._core", ["x"])
    ]


def test_every_import_names_its_module() -> None:
    # An import of a computed name is one this test cannot check.
    dynamic = [
        f"{source} imports {names[0]}"
        for source, imports in GRAPH.items()
        for module, names in imports
        if module == "<dynamic>"
    ]
    assert dynamic == []


def _module_cycles(graph: dict[str, list[tuple[str, list[str]]]]) -> list[list[str]]:
    """Every cycle of run-time imports between modules (a package is its ``__init__``),
    those inside one package included; imports of a package's own ``__init__`` by its
    modules count, as Python runs them."""
    deps: dict[str, set[str]] = {m: set() for m in graph}
    for source, imports in graph.items():
        for module, names in imports:
            if module == "<dynamic>":
                continue
            targets = {_target(module, n) for n in names} if names else {module}
            deps[source] |= {t for t in targets if t in graph and t != source}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(deps[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(deps):
        if node not in state:
            walk(node)
    return cycles


def test_no_cycle_between_modules_even_inside_a_package() -> None:
    assert [" -> ".join(c) for c in _module_cycles(GRAPH)] == []


def test_the_cycle_check_sees_a_cycle_inside_a_package() -> None:
    graph = {
        "tunnelframe.history._store": [("tunnelframe.history", ["_layout"])],
        "tunnelframe.history._layout": [("tunnelframe.history._store", ["STORE_SCHEMA"])],
        "tunnelframe.history": [],
    }
    assert _module_cycles(graph) == [
        ["tunnelframe.history._layout", "tunnelframe.history._store", "tunnelframe.history._layout"]
    ]


# ``getattr(x, "_name")`` (or set/has/delattr) where x is neither self nor cls.
def _private_access(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _NAMED_ACCESS
            and len(node.args) >= 2
        ):
            receiver, name = node.args[0], node.args[1]
            if (
                isinstance(name, ast.Constant)
                and isinstance(name.value, str)
                and name.value.startswith("_")
                and not (name.value.startswith("__") and name.value.endswith("__"))
                and not (isinstance(receiver, ast.Name) and receiver.id in {"self", "cls"})
            ):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_private_access_check_sees_getattr() -> None:
    code = "getattr(client, '_session')\nhasattr(self, '_x')\ngetattr(obj, '__name__')\n"
    assert _private_access(ast.parse(code)) == ["1: getattr(client, '_session')"]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_named_access_to_another_objects_private_attribute(path: Path) -> None:
    assert _private_access(ast.parse(path.read_text(encoding="utf-8"))) == []


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
