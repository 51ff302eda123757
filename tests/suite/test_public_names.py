"""Every public name has a test that names it.

The public API is read from the package itself: the ``__all__`` of autograd_nn and of each
public subpackage (functional, nn, nn.init, optim, optim.lr_scheduler, data, viz, testing,
testing.strategies, testing.contract, onnx, interop), and the public members (methods, properties,
attributes) of every public class. A name counts as tested when some test file refers to
it: for a module-level name, through the file's own imports (``ag.sum``, ``F.relu``,
``from autograd_nn.nn import Linear``; or a string such as ``getattr(F, "relu")`` in a
file that imports that module); for a class member, as an attribute or string in a file that
refers to the class, or a public subclass (``.extend`` counts for ``Sequential.extend``
only where ``Sequential`` is used). Tensor and Node members count anywhere: tests make
tensors with ``ag.tensor`` and nodes with operations, never by naming the class.

A name reached through several namespaces (``ag.relu`` is ``F.relu``) is one object and
needs one mention; ``test_reexports_are_the_same_objects`` checks that they are.

Why names and not coverage: a line that runs under some test is not a behaviour that a
test checks, and coverage would need the whole suite under a tracer. Naming a name is a
cheap floor; the mutation catalogue (``mutation/``) checks that the tests also bite.
``autograd_nn.cli`` is not scanned: its commands and options belong to the CLI's tests.

A name generated from the op registry (``ag.exp``, ``Tensor.add_``, ``Tensor.__radd__``)
is called by the shared property test, which calls every entry point of every declared op
(``autograd_nn.testing.entries``) and checks it against ``apply``: those count as tested.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import autograd_nn

TESTS = Path(__file__).resolve().parents[1]

NAMESPACES = [
    "autograd_nn", "autograd_nn.functional", "autograd_nn.nn", "autograd_nn.nn.init", "autograd_nn.optim",
    "autograd_nn.optim.lr_scheduler", "autograd_nn.data", "autograd_nn.viz", "autograd_nn.testing",
    "autograd_nn.testing.strategies", "autograd_nn.testing.contract", "autograd_nn.onnx", "autograd_nn.interop",
]  # fmt: skip

# Classes whose members tests reach without naming the class.
ANONYMOUS_CLASSES = {"autograd_nn.Tensor", "autograd_nn.Node"}

# Members that the class's protocol calls, so a test exercises them without spelling them:
# (base class, member) → a word that must also appear in the file (None: referring to the
# class suffices). Module.__call__ runs forward, repr runs extra_repr, a scheduler's step
# runs get_lr, Function.apply runs forward.
IMPLICIT = {
    ("autograd_nn.nn.Module", "forward"): None,
    ("autograd_nn.nn.Module", "extra_repr"): "repr",
    ("autograd_nn.optim.LRScheduler", "get_lr"): "step",
    ("autograd_nn.Function", "forward"): "apply",
}

# Public by accident of __slots__, not API (docs/api.md documents Node's save_for_backward,
# name, next_functions, register_hook, saved, needs_input_grad and xp); keep this list short.
EXEMPT = {
    "autograd_nn.Node.seq": "the engine's creation counter for its heap-ordered sweep",
    "autograd_nn.Node.ids": "the ids the recorder took of forward's arrays, read by saved_sources",
    "autograd_nn.Node.hooks": "the list register_hook appends to; tested through register_hook",
}


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:  # a module without __all__: what it defines itself
        names = [
            n
            for n, o in vars(module).items()
            if not n.startswith("_") and getattr(o, "__module__", None) == module_name
        ]
    return [n for n in names if not inspect.ismodule(getattr(module, n))]


def class_members(cls: type) -> list[str]:
    """Public names the class defines itself (methods, properties, class attributes)."""
    members = [n for n in vars(cls) if not n.startswith("_")]
    fields = getattr(cls, "__dataclass_fields__", {})
    return sorted(set(members) | {n for n in fields if not n.startswith("_")})


def public_api() -> tuple[dict[int, list[str]], dict[str, tuple[type, str]]]:
    """({id(object): [its qualified names]}, {"Class.member": (class, qualified class name)})."""
    objects: dict[int, list[str]] = defaultdict(list)
    classes: dict[type, str] = {}
    for module_name in NAMESPACES:
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            obj = getattr(module, name)
            objects[id(obj)].append(f"{module_name}.{name}")
            if inspect.isclass(obj) and obj.__module__.startswith("autograd_nn") and obj not in classes:
                classes[obj] = f"{module_name}.{name}"
    members = {}
    for cls, qualified in classes.items():
        for member in class_members(cls):
            members[f"{qualified}.{member}"] = (cls, qualified)
    return dict(objects), members


class Mentions(ast.NodeVisitor):
    """What one test file refers to: qualified autograd_nn names, attributes, strings."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}  # local name → qualified name
        self.qualified: set[str] = set()
        self.attributes: set[str] = set()
        self.strings: set[str] = set()
        self.names: set[str] = set()  # bare names used (repr, isinstance, ...)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("autograd_nn"):
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    self.aliases["autograd_nn"] = "autograd_nn"

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.module.startswith("autograd_nn"):
            for alias in node.names:
                qualified = f"{node.module}.{alias.name}"
                self.aliases[alias.asname or alias.name] = qualified
                self.qualified.add(qualified)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.attributes.add(node.attr)
        dotted = self._dotted(node)
        if dotted:
            self.qualified.add(dotted)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self.names.add(node.id)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value.isidentifier():
            self.strings.add(node.value)

    def _dotted(self, node: ast.expr) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return ".".join([self.aliases[node.id], *reversed(parts)])
        return None

    def modules(self) -> set[str]:
        """The autograd_nn modules this file can reach by a name (its aliases, resolved)."""
        found = set()
        for target in self.aliases.values():
            try:
                found.add(importlib.import_module(target).__name__)
            except ImportError:
                pass
        return found


def _test_files() -> Iterator[Path]:
    for path in sorted(TESTS.rglob("test_*.py")):
        if path != Path(__file__).resolve():
            yield path


def scan() -> list[Mentions]:
    scanned = []
    for path in _test_files():
        mentions = Mentions()
        mentions.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        scanned.append(mentions)
    return scanned


def _names_the_module_level_name(m: Mentions, qualified: str) -> bool:
    module, _, name = qualified.rpartition(".")
    if qualified in m.qualified:
        return True
    return name in m.strings and module in m.modules()  # getattr(F, name) over a parametrised list


def _refers_to_class(m: Mentions, cls: type, qualified_names: set[str]) -> bool:
    """Whether the file names the class or one of its public subclasses, by any qualified name."""
    return bool(m.qualified & qualified_names)


def registry_entries() -> set[str]:
    """The qualified names the op registry generates; the shared property test calls each."""
    from autograd_nn.registry import builtin_specs

    names = set()
    for spec in builtin_specs():
        s = spec.surface
        names |= {f"autograd_nn.{n}" for n in s.functions}
        names |= {f"autograd_nn.functional.{n}" for n in s.functions + s.functional}
        names |= {f"autograd_nn.Tensor.{n}" for n in s.methods + s.operators + s.inplace + s.properties}
    return names


def untested_names() -> list[str]:
    objects, members = public_api()
    scanned = scan()
    generated = registry_entries()
    missing = []
    for names in objects.values():
        if set(names) & generated:
            continue
        if not any(_names_the_module_level_name(m, q) for m in scanned for q in names):
            missing.append(names[0])
    # every qualified name of each class and of its public subclasses
    names_of_class: dict[type, set[str]] = defaultdict(set)
    for names in objects.values():
        obj = _resolve(names[0])
        if inspect.isclass(obj):
            for base in obj.__mro__:
                names_of_class[base].update(names)
    for member, (cls, qualified) in members.items():
        if member in EXEMPT or member in generated:
            continue
        name = member.rpartition(".")[2]
        for m in scanned:
            protocol = [word for (base, n), word in IMPLICIT.items() if n == name and issubclass(cls, _resolve(base))]
            if protocol:
                spelt = protocol[0] is None or protocol[0] in m.names | m.attributes
            else:
                spelt = name in m.attributes or name in m.strings
            if spelt and (qualified in ANONYMOUS_CLASSES or _refers_to_class(m, cls, names_of_class[cls])):
                break
        else:
            missing.append(member)
    return sorted(missing)


def _resolve(qualified: str) -> object:
    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_exemptions_name_real_members():
    _, members = public_api()
    assert set(EXEMPT) <= set(members), set(EXEMPT) - set(members)


def test_every_public_name_is_named_by_a_test():
    missing = untested_names()
    assert not missing, f"{len(missing)} public name(s) that no test file mentions; give each a direct test: {missing}"


def test_reexports_are_the_same_objects():
    # A name exported twice must be one object, so one test covers both spellings.
    import autograd_nn.functional as F

    shared = set(autograd_nn.__all__) & set(F.__all__)
    assert {"relu", "sum", "max", "where", "stack"} <= shared
    for name in shared:
        assert getattr(autograd_nn, name) is getattr(F, name), name


def test_the_scan_sees_imports_attributes_and_strings():
    source = (
        "import autograd_nn as ag\nimport autograd_nn.functional as F\nfrom autograd_nn.nn import Linear as L\n"
        "from autograd_nn import optim\nag.tensor(1).dot\nF.relu\noptim.lr_scheduler.StepLR\ngetattr(F, 'softmax')\n"
    )
    m = Mentions()
    m.visit(ast.parse(source))
    assert {"autograd_nn.tensor", "autograd_nn.functional.relu", "autograd_nn.nn.Linear"} <= m.qualified
    assert "autograd_nn.optim.lr_scheduler.StepLR" in m.qualified
    assert "dot" in m.attributes and "softmax" in m.strings
    assert _names_the_module_level_name(m, "autograd_nn.functional.softmax")
    assert not _names_the_module_level_name(m, "autograd_nn.functional.tanh")
    assert "autograd_nn.functional" in m.modules() and "autograd_nn.optim" in m.modules()
