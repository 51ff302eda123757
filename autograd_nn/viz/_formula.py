"""An op's declared formula, read and written with the graph's own symbols.

Every op's docstring starts with its formula in one line: the forward computation, then
the derivative of each input (its vector-Jacobian product), e.g. Linear's
``z = x Wᵀ + b;  δx = δz W,  δW = δzᵀ x,  δb = Σ δz``. This module splits that line
into the forward part and one entry per input, and writes either with the symbols the
explanation gives the tensors (``z¹ = a⁰ (W¹)ᵀ + b¹``, ``δ¹ W¹``). Where a variable
cannot be replaced safely (it also appears as a superscript, as in ``eᶻ``), the caller
gets None and says it another way: the text never renames what it does not understand.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..registry import spec_of_function

# Characters next to which a δ written as ``∂C/∂h₃`` reads unambiguously.
_OPERATORS_AFTER = set("·⊙+−-,)];=@×")
_OPERATORS_BEFORE = set("=·⊙+−-([,;@×")
_SUPERSCRIPT_DIGITS = set("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")


@dataclass(frozen=True)
class Formula:
    """One op's formula: ``out = forward``, and ``δ<input> = entry`` per input slot."""

    out: str  # the output's variable in the formula (``z``, ``a``, ``C``)
    forward: str  # the right-hand side of the forward part
    entries: dict[int, tuple[str, str]] = field(default_factory=dict)  # slot → (variable, δ expression)
    variables: tuple[str, ...] = ()  # the input variables, by slot
    rules: tuple[tuple[str, str], ...] = ()  # every ``δv = expression`` as written, matched or not


def _is_identifier(char: str) -> bool:
    """Letters, combining marks and subscripts belong to a name (``x̂``, ``xᵢ``, ``Σₐₓᵢₛ``);
    superscripts and modifier letters (``ᵀ``, ``²``, ``ʸ``) do not."""
    category = unicodedata.category(char)
    if category in ("Mn", "Mc", "Pc"):
        return True
    if category == "Lm":
        return "SUBSCRIPT" in unicodedata.name(char, "")
    return category.startswith("L") or char == "_"


def tokens(text: str) -> list[str]:
    """``text`` cut into names and single other characters (nothing is lost: ``"".join``)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and _is_identifier(text[j]):
            j += 1
        if j == i:
            out.append(text[i])
            i += 1
        else:
            out.append(text[i:j])
            i = j
    return out


def superscript_letters(text: str) -> set[str]:
    """The letters written as superscripts in ``text`` (``eᶻ`` → {"z"})."""
    found = set()
    for char in text:
        name = unicodedata.name(char, "")
        if unicodedata.category(char) == "Lm" and "SUBSCRIPT" not in name and ("SMALL" in name or "CAPITAL" in name):
            letter = name.split()[-1]
            found.add(letter.lower() if "SMALL" in name else letter)
    return found


_FORMULAS: dict[Any, Formula | None] = {}


def formula_of(fn: type) -> Formula | None:
    """The parsed formula of the op ``fn`` (a Function subclass), or None if it has none."""
    if fn in _FORMULAS:
        return _FORMULAS[fn]
    _FORMULAS[fn] = parsed = parse(formula_line(fn), _argument_names(fn))
    return parsed


def formula_line(fn: type) -> str:
    """The op's formula as declared: its spec's, else its docstring's first line."""
    spec = spec_of_function(fn)
    return spec.formula if spec is not None else (fn.__doc__ or "").strip().split("\n")[0]


def _argument_names(fn: type) -> list[str]:
    try:
        params = list(inspect.signature(fn.forward).parameters.values())[1:]
    except (TypeError, ValueError, AttributeError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def split_outside_brackets(text: str, separator: str = ";") -> list[str]:
    """``text`` cut at each ``separator`` that is not inside (), [] or {}: the LSTM's
    ``[hₜ; cₜ] for t = 1…T: …;  δ …`` has one forward part, not two."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def declared_rule(text: str) -> str:
    """The derivative part of a formula line (all after its forward part), as written."""
    return ";".join(split_outside_brackets(text)[1:]).strip()


def parse(text: str, arguments: list[str]) -> Formula | None:
    """Split ``"z = x + y;  δx = δz,  δy = δz   (remark)"`` into a ``Formula``.

    Entries are matched to input slots by name (``δx`` is the entry of the input called
    ``x`` in ``forward``), else by position when there is one entry per input.
    """
    text = re.split(r"\s{3,}\(", text, maxsplit=1)[0]  # drop a trailing remark: "   (…)"
    forward, *rest = split_outside_brackets(text)
    out, equals, rhs = forward.partition(" = ")
    if not equals or not tokens(out.strip()):
        return None
    if len(tokens(out.strip())) == 1 and _is_identifier(out.strip()[0]):
        out_name = "".join(c for c in out.strip() if "SUBSCRIPT" not in unicodedata.name(c, ""))  # sᵢ → s
    else:  # "[hₜ; cₜ] for t = …": no one output variable; the whole forward part describes it
        out_name, rhs = "", forward
    named: list[tuple[str, str]] = []
    for part in rest:
        for entry in re.split(r",\s+(?=δ)", part.strip()):
            lhs, eq, expr = entry.partition(" = ")
            if eq and lhs.startswith("δ") and len(tokens(lhs)) == 1:
                named.append((lhs[1:], expr.strip()))
    by_name = {name: expr for name, expr in named}
    entries: dict[int, tuple[str, str]] = {}
    if arguments and all(a in by_name for a in arguments):
        entries = {i: (a, by_name[a]) for i, a in enumerate(arguments)}
        variables = tuple(arguments)
    elif len(named) == len(arguments) and named:
        entries = dict(enumerate(named))
        variables = tuple(name for name, _ in named)
    else:
        variables = tuple(arguments)
    return Formula(out_name, rhs.strip(), entries, variables, tuple(named))


def _needs_parentheses(symbol: str) -> bool:
    return bool(symbol) and (symbol[-1] in _SUPERSCRIPT_DIGITS or "ˡ" in symbol or any(c in symbol for c in " /·+−"))


def substitute(expression: str, symbols: dict[str, str], deltas: dict[str, str]) -> str | None:
    """``expression`` with each variable replaced by its symbol (``symbols``) and each ``δv``
    by ``deltas[v]``; None if a replaced variable also appears as a superscript (``eᶻ``:
    replacing ``z`` would leave the exponent behind)."""
    if superscript_letters(expression) & (set(symbols) | set(deltas)):
        return None
    parts = tokens(expression)
    out: list[str] = []
    for k, token in enumerate(parts):
        replacement = None
        if token.startswith("δ") and token[1:] in deltas:
            replacement, is_delta = deltas[token[1:]], True
        elif token in symbols:
            replacement, is_delta = symbols[token], False
        if replacement is None:
            out.append(token)
            continue
        after = next((t for t in parts[k + 1 :] if t != " "), "")
        before = next((t for t in reversed(parts[:k]) if t != " "), "")
        following = parts[k + 1][:1] if k + 1 < len(parts) else ""
        if (following in _SUPERSCRIPT_DIGITS or superscript_letters(following)) and _needs_parentheses(replacement):
            replacement = f"({replacement})"
        elif is_delta and "/" in replacement and (
            (after and after[0] not in _OPERATORS_AFTER) or (before and before[-1] not in _OPERATORS_BEFORE)
        ):
            replacement = f"({replacement})"
        out.append(replacement)
    return "".join(out)
