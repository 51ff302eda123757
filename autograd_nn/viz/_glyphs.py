"""The characters a picture may use, so every renderer has a glyph for each.

Pictures are laid out and drawn by a Graphviz program with one font: the system ``dot``
asks fontconfig for ``Arial`` (Liberation Sans, Arimo or Arial itself, with fallbacks
for the rest), the pip-only ``graphviz-pure`` draws with its own copy of Arimo and has
no fallback, so a character Arimo lacks comes out as an empty box. Labels are therefore
written in printable ASCII and ``PICTURE_GLYPHS``; the few symbols of the text view that
Arimo lacks are replaced by the nearest it has (``⊙`` → ``◦``, ``⋆`` → ``*``).
``tests/viz/test_viz_glyphs.py`` renders every view with every renderer found and
checks each character against the fonts they use.
"""

from __future__ import annotations

FONT = "Arial"
"""The font name every picture asks for: Arimo in graphviz-pure, Liberation Sans or Arial
through fontconfig, Arial in a browser showing the SVG: one set of metrics everywhere."""

PICTURE_GLYPHS = frozenset(
    "δ∂ΣσεμηλθαβγΔ·×÷−±→←√≈≠≤≥∞…‖′°"  # math
    "ᵀˡᴸ⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ⁱ"  # superscripts: Wᵀ, zˡ, a⁰, W⁻¹
    "₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₐₓₛ"  # subscripts: h₁, Σₐₓᵢₛ
    "ŷ̂◦•"  # ŷ, a combining hat, the elementwise product
)
"""The non-ASCII characters labels may contain (all in Arimo, Liberation Sans and DejaVu Sans)."""

SUBSTITUTES = str.maketrans({"⊙": "◦", "∘": "◦", "⋆": "*", "∗": "*", "⋅": "·", "⊗": "×", "∥": "‖", "ⁿ": "n", "∈": "in"})
"""What a picture writes for a symbol the fonts lack."""


def picture_text(text: str) -> str:
    """``text`` in the characters every renderer can draw."""
    return text.translate(SUBSTITUTES)


def unsupported(text: str) -> set[str]:
    """The characters of ``text`` outside printable ASCII and ``PICTURE_GLYPHS``."""
    return {c for c in text if not (" " <= c <= "~" or c in "\n\t" or c in PICTURE_GLYPHS)}
