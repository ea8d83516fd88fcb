"""The package reads layer by layer: no import circles inside minigrad, and no class patched from outside.

Both checks read the source with ``ast`` and import nothing, so they also see imports that
only run inside functions, which a check of ``sys.modules`` would miss.

Import rules the graph follows (those of Python's import system):

* ``from a.b import c`` runs ``a``, then ``a.b``, then ``a.b.c`` if that is a module;
* a module's own packages (``minigrad``, ``minigrad.ops`` for ``minigrad/ops/shape.py``)
  are already being imported when it runs, so importing a submodule through them adds no
  edge; taking a name that is not a module from one of them does (it needs that package's
  ``__init__`` to have got that far).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "minigrad"

# Import edges (importer, imported) left out of the cycle check, each with its reason. None is
# needed today; one added here must say why the circle cannot be broken.
ALLOWED_EDGES: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth: inside functions too."""
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The minigrad modules that importing ``name`` runs (or needs run) directly."""
    is_package = path.name == "__init__.py"
    own_packages = set(_with_parents(name)[:-1]) | ({name} if is_package else set())
    targets: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.update(m for m in _with_parents(alias.name) if m not in own_packages)
            continue
        if node.level:
            package = name if is_package else name.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            source = f"{package}.{node.module}" if node.module else package
        else:
            source = node.module or ""
        targets.update(m for m in _with_parents(source) if m not in own_packages)
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            if sub in modules:
                targets.add(sub)
            elif source in own_packages:  # a name defined by a package that is still running its __init__
                targets.add(source)
    return {t for t in targets if t in modules and t != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None; iterative depth-first search."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        state[start] = 1
        stack = [iter(sorted(graph[start]))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_graph_sees_function_level_and_package_imports(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from ..tensor import Tensor\n\n\nfrom .. import _backend, no_grad\n")
    modules = {**_modules(), "minigrad.ops.probe": module}
    assert _imports_of("minigrad.ops.probe", module, modules) == {"minigrad.tensor", "minigrad._backend", "minigrad"}
    graph = import_graph()
    assert "minigrad.autograd" in graph["minigrad.ops._base"]  # from ..autograd.function runs autograd/__init__
    assert "minigrad.ops" not in graph["minigrad.ops.shape"]  # its own package: already running


def test_find_cycle_reports_the_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    graph = import_graph()
    for (src, dst), _reason in ALLOWED_EDGES.items():
        assert dst in graph[src], f"allowed edge {src} -> {dst} no longer exists: remove it from ALLOWED_EDGES"
        graph[src] = graph[src] - {dst}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in _import_nodes(tree):
        for alias in node.names:
            names.add(alias.asname or alias.name.partition(".")[0])
    return names


def _outside_object(expr: ast.expr, imported: set[str]) -> str | None:
    """The name of ``expr`` if it is something the module imported, or a ``Tensor`` class however reached."""
    if isinstance(expr, ast.Name) and (expr.id in imported or expr.id == "Tensor"):
        return expr.id
    if isinstance(expr, ast.Attribute) and expr.attr == "Tensor":  # minigrad.tensor.Tensor.x = ...
        return ast.unparse(expr)
    return None


def patched_from_outside(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) where a module sets an attribute on something it imported or on ``Tensor``:
    ``Tensor.x = ...``, ``function.Tensor = ...``, ``setattr(Tensor, ...)``."""
    imported = _imported_names(tree)
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            name = _outside_object(node.args[0], imported) if node.args else None
            if name is not None:
                found.append((node.lineno, name))
        for target in targets:
            for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                name = _outside_object(t.value, imported) if isinstance(t, ast.Attribute) else None
                if name is not None:
                    found.append((t.lineno, name))
    return sorted(found)


def test_the_patching_check_finds_patching():
    source = ("from .tensor import Tensor\nfrom . import function\nimport minigrad\nTensor.__add__ = add\n"
              "setattr(Tensor, 'x', 1)\nTensor.y += 1\nfunction.Tensor = Tensor\nself.a = 1\n"
              "setattr(self, 'b', 2)\nclass A:\n    pass\nA.b = 1\nfunction.rng.state = 0\n"
              "minigrad.tensor.Tensor.draw = f\n")
    assert patched_from_outside(ast.parse(source)) == [
        (4, "Tensor"), (5, "Tensor"), (6, "Tensor"), (7, "function"), (14, "minigrad.tensor.Tensor")]


def test_no_module_patches_what_it_imports():
    """Classes get their methods in their own body, modules their names in their own file."""
    offenders = []
    for name, path in _modules().items():
        for line, target in patched_from_outside(ast.parse(path.read_text(), str(path))):
            if name == "minigrad.tensor" and target == "Tensor":
                continue  # its own class
            if name == "minigrad.distributed" and target == "sys":
                continue  # sys.excepthook: Python's own place for a hook on uncaught exceptions, made to be set
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} sets an attribute of {target}")
    assert not offenders, "\n".join(offenders)
