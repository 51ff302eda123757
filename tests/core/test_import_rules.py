"""Keeps the layering of the package true: a whitelist of imports for every module, no
module writing into another's namespace at import time, and no recursion anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "autograd_nn"

# module (or subpackage) → the internal modules it may import. Every module must be listed:
# a new one has to say where it sits. Imports point down: nn → functional → tensor →
# {engine, ops} → {function, graph, registry}; the engine knows no op and no Tensor.
ALLOWED: dict[str, set[str]] = {
    "_shapes": set(),
    "grad_mode": set(),
    "versions": set(),
    "opspec": set(),
    "_atomic": set(),
    "_default_dtype": set(),  # the default dtype of new parameters: state only, read by layers
    "_device": set(),  # the CPU, the only device: Tensor.to, Module.to and the layers check it alike
    "registry": {"opspec"},
    "_xp": {"opspec", "registry"},
    "graph": {"_xp"},
    "engine": {"_shapes", "grad_mode", "graph", "versions"},
    "anomaly": {"engine", "graph"},
    "allocator": set(),  # glibc's malloc thresholds, set once on import
    "_interrupts": set(),  # gives back a Ctrl-C CPython drops in the library's callbacks
    "collector": {"_interrupts", "graph", "versions"},  # reads the clock and probes nodes; never touches a graph
    "_tracing": {"grad_mode"},
    "_record": {"_tracing", "anomaly", "grad_mode", "graph", "versions"},
    "function": {"_record"},
    "ops": {"_device", "_record", "_shapes", "_tracing", "function", "registry"},  # _tracing: random draws a compiled step repeats
    "_inplace": {"_record", "_tracing", "grad_mode", "opspec", "versions"},
    "_surface": {"_inplace", "_record", "_xp", "opspec", "registry"},
    "autograd": {"_record", "_surface", "_tracing", "anomaly", "engine", "grad_mode", "graph", "versions"},
    "tensor": {"_device", "_tracing", "_record", "_surface", "autograd", "graph", "ops", "versions"},  # _device: Tensor.device
    "creation": {"_tracing", "tensor"},
    "random": {"_tracing", "creation", "tensor"},
    "functional": {"_tracing", "_surface", "creation", "ops", "registry", "tensor"},
    "nn": {"_default_dtype", "_device", "_tracing", "creation", "functional", "grad_mode", "random", "tensor"},  # nn builds on the Tensor API only
    "optim": {"_tracing", "grad_mode", "tensor", "versions"},  # versions: one write stamp for a whole step
    "data": {"_atomic", "creation", "tensor"},
    "checkpoint": {"_atomic", "creation", "tensor"},
    "viz": {"_atomic", "creation", "engine", "grad_mode", "graph", "registry", "tensor"},  # reads graphs only
    "testing": {"__init__", "_surface", "autograd", "creation", "function", "functional", "opspec", "registry", "tensor"},
    "training": {"creation", "data", "functional", "grad_mode", "nn", "optim", "tensor"},
    # reads recorded graphs, never changes them; the keep-inputs mode bit is the only thing it sets
    "onnx": {"_atomic", "_shapes", "grad_mode", "graph", "nn", "ops", "registry", "tensor"},
    "interop": {"nn"},  # from_torch / to_torch: the nn modules and their state_dicts only
    "cli": {
        "__init__", "_atomic", "checkpoint", "creation", "data", "functional", "grad_mode", "onnx", "tensor", "training",
        "viz",
    },  # fmt: skip
    "replay": {"_tracing", "creation", "grad_mode", "tensor", "versions"},  # autograd_nn.compile: replays what the core records
    "__main__": {"cli"},
    "__init__": {
        "_default_dtype", "allocator", "anomaly", "autograd", "checkpoint", "collector", "creation", "engine", "function",
        "functional", "grad_mode", "graph", "interop", "nn", "optim", "random", "registry", "replay", "tensor",
    },  # fmt: skip
}


def _module_name(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _from_package_root(name: str) -> str:
    """``from autograd_nn import X``: the module X if there is one, else the package's __init__."""
    return name if (PACKAGE / f"{name}.py").exists() or (PACKAGE / name).is_dir() else "__init__"


def _internal_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    relative_to = path.relative_to(PACKAGE).parts
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(relative_to[: len(relative_to) - node.level])
                parts = base + (node.module.split(".") if node.module else [])
                if parts:
                    found.add(parts[0])
                else:
                    found.update(_from_package_root(alias.name) for alias in node.names)
            elif node.module == "autograd_nn":
                found.update(_from_package_root(alias.name) for alias in node.names)
            elif node.module and node.module.startswith("autograd_nn."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("autograd_nn."):
                    found.add(alias.name.split(".")[1])
                elif alias.name == "autograd_nn":
                    found.add("__init__")
    return {name.removesuffix(".py") for name in found}


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_on_the_whitelist():
    unlisted = sorted({_module_name(p) for p in MODULES} - set(ALLOWED))
    assert not unlisted, f"add these modules to ALLOWED with the imports they may make: {unlisted}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    name = _module_name(path)
    bad = _internal_imports(path) - ALLOWED.get(name, set()) - {name}
    assert not bad, f"{path.relative_to(PACKAGE)} ({name}) imports {sorted(bad)}, which it may not"


def _namespace_writes(source: str) -> list[str]:
    """Module-level ``other_module.name = ...``, ``setattr(other_module, ...)`` and
    ``other_module.__dict__.update(...)``: the back-channels that hide a dependency."""
    tree = ast.parse(source)
    modules = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.update(a.asname or a.name for a in node.names)
    offenders = []
    for node in tree.body:
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            base = target
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(target, (ast.Attribute, ast.Subscript)) and isinstance(base, ast.Name) and base.id in modules:
                offenders.append(ast.unparse(target))
        for call in ast.walk(node) if isinstance(node, ast.Expr) else ():
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            if isinstance(func, ast.Name) and func.id == "setattr" and call.args:
                if isinstance(call.args[0], ast.Name) and call.args[0].id in modules:
                    offenders.append(ast.unparse(call))
            elif isinstance(func, ast.Attribute):
                chain, base = [], func.value
                while isinstance(base, ast.Attribute):
                    chain.append(base.attr)
                    base = base.value
                if "__dict__" in chain and isinstance(base, ast.Name) and base.id in modules:
                    offenders.append(ast.unparse(call))
    return offenders


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_writes_into_another_at_import_time(path):
    assert not _namespace_writes(path.read_text()), f"{path.relative_to(PACKAGE)} writes into other modules"


def test_the_rule_catches_the_old_back_channels():
    """The rule is not vacuous: the wiring v0.1 had would fail it."""
    assert _namespace_writes("from . import function\nfunction._record = print\n") == ["function._record"]
    assert _namespace_writes("from .. import _xp\n_xp.tensor_namespace.__dict__.update(exp=1)\n")
    assert _namespace_writes("import numpy as np\nsetattr(np, 'x', 1)\n")
    assert _namespace_writes("import numpy as np\nx = np.exp\n") == []


def test_no_function_calls_itself():
    """Graphs can be 10⁶ nodes deep: nothing in the package may recurse."""
    offenders = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call):
                        target = call.func
                        name = target.id if isinstance(target, ast.Name) else None
                        if name == node.name:
                            offenders.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert not offenders, offenders


def _reads_data_by_getattr(source: str) -> list[int]:
    """Lines that read ``getattr(x, "data", ...)``: for an ndarray that is its raw buffer, not
    the array, and a replay's watched array loses its watch through it."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
            if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "data":
                lines.append(node.lineno)
    return lines


def test_no_module_takes_an_array_through_getattr_data():
    """A tensor's array is ``array_of(x)`` (or an isinstance check): ``getattr(labels, "data", labels)``
    gave an ndarray's buffer, and a compiled step replayed its first labels for later ones."""
    offenders = {str(p.relative_to(PACKAGE)): lines for p in MODULES if (lines := _reads_data_by_getattr(p.read_text()))}
    assert not offenders, offenders
    assert _reads_data_by_getattr('y = np.asanyarray(getattr(labels, "data", labels))\n') == [1]
