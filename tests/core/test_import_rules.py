"""Keeps the layering of the package true: imports point down only, no recursion."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "autograd_nn"

# module (or package) → internal modules it must never import
FORBIDDEN = {
    "_shapes": {"function", "engine", "tensor", "ops", "functional", "nn", "optim", "viz"},
    "_xp": {"function", "engine", "tensor", "ops", "functional", "nn", "optim", "viz"},
    "function": {"engine", "tensor", "ops", "functional", "nn", "optim", "viz"},
    "engine": {"tensor", "ops", "functional", "nn", "optim", "viz"},  # the engine knows no concrete op
    "ops": {"engine", "tensor", "functional", "nn", "optim", "viz"},
    "tensor": {"functional", "nn", "optim", "viz", "testing", "data"},
    "functional": {"engine", "nn", "optim", "viz"},
    "nn": {"engine", "function", "_xp", "ops", "viz", "cli"},  # nn builds on the Tensor API only
    "optim": {"engine", "function", "_xp", "ops", "viz", "cli"},
    "viz": {"nn", "optim", "cli", "data"},
}


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
                    found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("autograd_nn."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("autograd_nn."):
                    found.add(alias.name.split(".")[1])
    return {name.removesuffix(".py") for name in found}


def _modules(name: str) -> list[Path]:
    package = PACKAGE / name
    return sorted(package.rglob("*.py")) if package.is_dir() else [PACKAGE / f"{name}.py"]


@pytest.mark.parametrize("module", [m for m in sorted(FORBIDDEN) if any(p.exists() for p in _modules(m))])
def test_imports_point_down(module):
    paths = [p for p in _modules(module) if p.exists()]
    for path in paths:
        bad = _internal_imports(path) & FORBIDDEN[module]
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_no_function_calls_itself():
    """Graphs can be 10⁶ nodes deep: nothing in the package may recurse."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call):
                        target = call.func
                        name = target.id if isinstance(target, ast.Name) else None
                        if name == node.name:
                            offenders.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert not offenders, offenders
