"""Walking a module tree without recursion: the cycle check done at registration, and
``repr``. A module tree is a DAG (sharing allowed, cycles refused), walked with explicit
stacks so that any depth works.

The cycle check costs nothing in the common case, at any depth: a module that has never
been put into a ``_modules`` (``SubModules`` marks each one that is) is no module's
sub-module, so it cannot be inside the one registered under it, and nothing is walked.
Building a model bottom-up, as ``Sequential(Sequential(...))`` does, is that case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._changes import Registry

if TYPE_CHECKING:
    from .module import Module

#: the flag ``SubModules`` sets on each module put into it (``Module`` has it False)
IN_A_TREE = "_in_a_tree"


def _mark(value: Any) -> None:
    if hasattr(type(value), IN_A_TREE):  # a module (a value put in behind the module's back may be anything)
        object.__setattr__(value, IN_A_TREE, True)


class SubModules(Registry):
    """A module's ``_modules``: a ``Registry`` that marks every module put into it as
    being in a tree (never unmarked: a module once removed is only walked for nothing)."""

    def __setitem__(self, key: str, value: Any) -> None:
        _mark(value)
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        entries = dict(*args, **kwargs)
        for value in entries.values():
            _mark(value)
        super().update(entries)

    def setdefault(self, key: str, default: Any = None) -> Any:
        _mark(default)
        return super().setdefault(key, default)

    def __ior__(self, other: Any) -> SubModules:
        self.update(other)
        return self

#: Sub-modules nested deeper than this are shown as ``Type(...)`` in a module's repr.
REPR_DEPTH = 64


def refuse_cycle(owner: Module, name: str, module: Module | None) -> None:
    """Raise if registering ``module`` under ``owner`` would make a cycle: ``module`` is
    ``owner`` or already contains it (which only an ``owner`` in a tree can be)."""
    if module is None:
        return
    inside = module._modules and owner._in_a_tree and any(m is owner for m in _reachable(module))
    if module is owner or inside:
        what = "itself" if module is owner else f"a {type(module).__name__} that already contains it"
        raise ValueError(
            f"{type(owner).__name__}: cannot register sub-module {name!r}: it is {what}. A module cycle would "
            "make parameters(), state_dict() and repr loop forever; register a new module, or share its layers"
        )


def _reachable(root: Module) -> Any:
    """Every module below ``root``, each once (terminates on any structure)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        module = stack.pop()
        yield module
        for child in module._modules.values():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                stack.append(child)


def module_repr(root: Module) -> str:
    """PyTorch's layout: ``Type(extra)`` for a leaf, else one ``(name): child`` line per
    sub-module, each level indented by two spaces."""
    from .module import Module

    lines: list[str] = []
    on_path: set[int] = set()
    # entries: ("module", module, label, indent, depth) | ("text", line) | ("leave", id)
    stack: list[tuple[Any, ...]] = [("module", root, "", "", 0)]
    while stack:
        entry = stack.pop()
        if entry[0] == "text":
            lines.append(entry[1])
            continue
        if entry[0] == "leave":
            on_path.discard(entry[1])
            continue
        _, module, label, indent, depth = entry
        if not isinstance(module, Module):
            lines.append(f"{indent}{label}{module!r}")
            continue
        kind = type(module).__name__
        if id(module) in on_path:
            lines.append(f"{indent}{label}<cycle: this {kind} contains itself>")
            continue
        if depth > 0 and type(module).__repr__ is not Module.__repr__:  # a subclass's own repr
            text = repr(module).replace("\n", "\n" + indent)
            lines.append(f"{indent}{label}{text}")
            continue
        extra = [line for line in module.extra_repr().split("\n") if line]
        children = list(module._modules.items())
        if not children and len(extra) <= 1:
            lines.append(f"{indent}{label}{kind}({''.join(extra)})")
            continue
        if depth >= REPR_DEPTH:
            lines.append(f"{indent}{label}{kind}(...)")
            continue
        lines.append(f"{indent}{label}{kind}(")
        inner = indent + "  "
        on_path.add(id(module))
        stack.append(("text", indent + ")"))
        stack.append(("leave", id(module)))
        stack.extend(("module", child, f"({name}): ", inner, depth + 1) for name, child in reversed(children))
        stack.extend(("text", inner + line) for line in reversed(extra))
    return "\n".join(lines)
