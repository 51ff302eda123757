"""The characters a picture may use, so every renderer has a glyph for each.

Pictures are laid out and drawn by a Graphviz program with one font: the system ``dot``
asks fontconfig for ``Arial`` (Liberation Sans, Arimo or Arial itself, with fallbacks
for the rest), the pip-only ``graphviz-pure`` draws with its own copy of Arimo and has
no fallback, so a character Arimo lacks comes out as an empty box. Labels are therefore
written in printable ASCII and ``PICTURE_GLYPHS``; the few symbols of the text view that
Arimo lacks are replaced by the nearest it has (``⊙`` → ``◦``, ``⋆`` → ``*``), and any other
character outside the set by its compatibility form where that is drawable (``ᵦ`` → ``β``).
``tests/viz/test_viz_glyphs.py`` renders every view with every renderer found and
checks each character against the fonts they use.
"""

from __future__ import annotations

import functools
import re
import unicodedata

FONT = "Arial"
"""The font name every picture asks for: Arimo in graphviz-pure, Liberation Sans or Arial
through fontconfig, Arial in a browser showing the SVG: one set of metrics everywhere."""

PICTURE_GLYPHS = frozenset(
    "δ∂ΣσεμηλθαβγΔ·×÷−±→←√≈≠≤≥∞…‖′°∑∏∫¬∩ℝ"  # math
    "ζικνξοπρςτυφχψωΓΘΛΞΠΦΨΩ"  # the rest of the Greek a declared formula may use
    "ᵀˡᴸ⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ⁱ"  # superscripts: Wᵀ, zˡ, a⁰, W⁻¹
    "ᵃᵇᶜᵈᵉᶠᵍʰʲᵏᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"  # superscript letters: xʸ, eᶻ
    "₀₁₂₃₄₅₆₇₈₉₋ᵢⱼₖₐₓₛₑₒₔₕₗₘₙₚₜᵣᵤᵥ"  # subscripts: h₁, Σₐₓᵢₛ, hₜ₋₁
    "ŷ̂◦•"  # ŷ, a combining hat, the elementwise product
)
"""The non-ASCII characters labels may contain (all in Arimo, Liberation Sans and DejaVu Sans)."""

SUBSTITUTES = str.maketrans({"⊙": "◦", "∘": "◦", "⋆": "*", "∗": "*", "⋅": "·", "⊗": "×", "∥": "‖", "ⁿ": "n", "∈": "in"})
"""What a picture writes for a symbol the fonts lack."""


_OUTSIDE = re.compile("[^\x20-\x7e\n\t" + re.escape("".join(sorted(PICTURE_GLYPHS))) + "]")


@functools.cache
def _nearest(char: str) -> str:
    """A character outside the glyph set as its compatibility decomposition (``ᵦ`` → ``β``,
    ``ﬁ`` → ``fi``) when that is drawable; else itself (the glyph test names it)."""
    plain = unicodedata.normalize("NFKD", char)
    return plain if plain != char and not _OUTSIDE.search(plain) else char


def picture_text(text: str) -> str:
    """``text`` in the characters every renderer can draw: a declared formula (a new
    layer's docstring) may use any character, and a picture must never draw a box."""
    text = text.translate(SUBSTITUTES)
    return text if text.isascii() else _OUTSIDE.sub(lambda m: _nearest(m.group()), text)


def unsupported(text: str) -> set[str]:
    """The characters of ``text`` outside printable ASCII and ``PICTURE_GLYPHS``."""
    return {c for c in text if not (" " <= c <= "~" or c in "\n\t" or c in PICTURE_GLYPHS)}
