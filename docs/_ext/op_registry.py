"""Sphinx extension: the op tables and op counts of the docs, read from autograd_nn's registry.

``{ops-table}`` (optionally with a kind: ``primitive``, ``composite``, ``array``) renders
one row per declared op: its formula and every public name it has. The counts the pages
quote are MyST substitutions set in ``conf.py`` from ``counts()``. Nothing is listed by
hand, so a new op shows up in the docs without a line of documentation changing.
"""

from __future__ import annotations

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from autograd_nn.registry import builtin_specs

EXAMPLES_PER_OP = 40  # the `ci` hypothesis profile (tests/conftest.py)


def counts() -> dict[str, int]:
    """How many ops of each kind the registry holds, and what CI draws for them."""
    kinds = {kind: len(builtin_specs(kind)) for kind in ("primitive", "composite", "array")}
    return {
        "n_primitives": kinds["primitive"],
        "n_composites": kinds["composite"],
        "n_array_functions": kinds["array"],
        "n_ops": sum(kinds.values()),
        "ci_examples": EXAMPLES_PER_OP * sum(kinds.values()),
    }


def _code(names: tuple[str, ...]) -> str:
    return ", ".join(f"``{n}``" for n in names)


class OpsTable(SphinxDirective):
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        kind = self.arguments[0] if self.arguments else None
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 14 34 18 18 16", "",
                 "   * - op", "     - formula", "     - functions", "     - methods", "     - operators, in-place"]
        for spec in builtin_specs(kind):
            s = spec.surface
            formula = spec.formula.replace("*", r"\*").replace("`", "'") or "—"
            functions = _code(s.functions) + (" (functional: " + _code(s.functional) + ")" if s.functional else "")
            methods = _code(s.methods + s.properties)
            operators = _code(s.operators + s.inplace)
            ufuncs = ", ".join(f"``np.{u.__name__}``" for u in s.ufuncs)
            lines += [f"   * - ``{spec.name}``", f"     - {formula}", f"     - {functions or '—'}",
                      f"     - {methods or '—'}", f"     - {operators or '—'}" + (f" (ufunc {ufuncs})" if ufuncs else "")]
        container = nodes.container()
        self.state.nested_parse(StringList(lines), self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive("ops-table", OpsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
