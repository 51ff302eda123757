"""Every character a picture draws has a glyph in the font that draws it, with every
renderer found: the system ``dot`` (fontconfig's fonts for ``Arial``, with its fallbacks)
and the pip-only ``graphviz-pure`` (its own copy of Arimo, without fallback).

Each view (op graph forward and backward, fused and unfused, the model view forward and
backward) of each model family is rendered to SVG, the text the renderer laid out is read
back, and each character is looked up in the font's character map.
"""

from __future__ import annotations

import functools
import io
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn, viz
from autograd_nn.viz import _render
from autograd_nn.viz._glyphs import FONT, PICTURE_GLYPHS, picture_text, unsupported

sys.path.insert(0, str(Path(__file__).parent))
from test_explain_families import FAMILIES, PairMax, RunningSums  # noqa: E402
from viz_fakes import bike_network  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def views():
    """(name, Graph) for every kind of picture, over models that use every kind of label."""
    model, x, y = bike_network(hidden=6)
    yield "model-forward", viz.draw_model(model, x, y, F.mse_loss)
    yield "model-backward", viz.draw_model(model, x, y, F.mse_loss, backward=True)
    nn.init.manual_seed(0)
    real = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 1))
    xr, yr = np.random.default_rng(0).normal(size=(3, 4)), np.zeros((3, 1))
    yield "ops-backward-unfused", viz.draw_model(real, xr, yr, F.mse_loss, backward=True, expand=True, fused=False)
    yield "ops-forward-unfused", viz.draw_model(real, xr, yr, F.mse_loss, expand=True, fused=False)
    yield "model-backward-dropout", viz.draw_model(real, xr, yr, F.mse_loss, backward=True)
    w = ag.tensor([0.5, -1.0, 2.0], requires_grad=True)  # a user's ops, formulas with sₜ₋₁, xʸ
    scan = lambda t: PairMax.apply(RunningSums.apply(t, w)[1]) ** 2  # noqa: E731
    xs = np.random.default_rng(1).normal(size=(4, 3))
    yield "model-backward-user-functions", viz.draw_model(scan, xs, np.zeros((2, 3)), F.mse_loss, backward=True)
    for family, build in FAMILIES.items():
        loss, _ = build()
        yield f"{family}-forward", viz.draw_forward(loss)
        yield f"{family}-backward", viz.draw_backward(loss)


VIEWS = dict(views())


@pytest.mark.parametrize("view", VIEWS)
def test_labels_use_only_the_characters_every_renderer_can_draw(view):
    source = VIEWS[view].source
    assert unsupported(source) == set(), view
    assert "⊙" not in source and "⋆" not in source  # written ◦ and * in pictures
    assert f'fontname="{FONT}"' in source


def test_a_character_outside_the_set_is_drawn_by_its_compatibility_form_where_it_has_one():
    assert picture_text("hₜ₋₁ ᵦ ﬁ 𝑥") == "hₜ₋₁ β fi x"  # a layer's docstring may use any character
    assert picture_text("∇") == "∇" and unsupported("∇") == {"∇"}  # no drawable form: left for the test to name
    assert "sₜ₋₁ + xₜ" in VIEWS["model-backward-user-functions"].source


def test_symbols_the_fonts_lack_are_replaced_by_their_nearest_glyph():
    assert picture_text("δ¹ = (δ² · W²) ⊙ σ'(z¹), m ∈ {0, 2}, W ⋆ a") == "δ¹ = (δ² · W²) ◦ σ'(z¹), m in {0, 2}, W * a"
    assert unsupported("δ ŷ z¹ Σₐₓᵢₛ ⁻¹ ◦") == set() and unsupported("⊙ ∘") == {"⊙", "∘"}


# ---------------------------------------------------------------- fonts in use
def _cmap(data: bytes, offset: int = 0) -> set[str]:
    from fontTools.ttLib import TTFont

    return {chr(c) for c in TTFont(io.BytesIO(data[offset:]), lazy=True).getBestCmap()}


@functools.cache
def graphviz_pure_fonts() -> dict[str, set[str]]:
    """The fonts compiled into graphviz-pure (TrueType files inside the binary), by name."""
    pytest.importorskip("fontTools", reason="fontTools reads the fonts (installed with matplotlib)")
    from fontTools.ttLib import TTFont

    data = Path(_render._graphviz_pure()).resolve().read_bytes()
    fonts: dict[str, set[str]] = {}
    start = data.find(b"\x00\x01\x00\x00")
    while start >= 0:
        count = struct.unpack(">H", data[start + 4 : start + 6])[0]
        tags = {data[start + 12 + 16 * k : start + 16 + 16 * k] for k in range(count)} if 8 <= count <= 40 else set()
        if {b"cmap", b"glyf", b"name"} <= tags:
            try:
                name = TTFont(io.BytesIO(data[start:]), lazy=True)["name"].getDebugName(4)
                fonts[name] = _cmap(data, start)
            except Exception:  # noqa: BLE001 - bytes that only look like a font header
                pass
        start = data.find(b"\x00\x01\x00\x00", start + 4)
    return fonts


@functools.cache
def fontconfig_fonts(family: str) -> list[set[str]]:
    """The character maps of the fonts fontconfig offers for ``family``, best first (what
    Graphviz's pango tries, glyph by glyph)."""
    pytest.importorskip("fontTools", reason="fontTools reads the fonts (installed with matplotlib)")
    listed = subprocess.run(["fc-match", "-s", family, "--format", "%{file}\\n"], capture_output=True, text=True)
    files = [f for f in listed.stdout.splitlines() if f.endswith((".ttf", ".otf"))][:12]
    return [_cmap(Path(f).read_bytes()) for f in files]


def renderers():
    found = []
    if shutil.which("dot"):
        found.append("dot")
    if _render._graphviz_pure():
        found.append("graphviz-pure")
    return found


def drawn_text(svg: bytes) -> tuple[str, set[str]]:
    root = ET.fromstring(svg)
    texts = list(root.iter(f"{SVG}text"))
    return "".join("".join(t.itertext()) for t in texts), {t.get("font-family") for t in texts}


@pytest.mark.parametrize("renderer", ["dot", "graphviz-pure"])
def test_every_drawn_character_is_in_the_font_the_renderer_uses(renderer):
    if renderer not in renderers():
        pytest.skip(f"{renderer} is not installed")
    if renderer == "dot":
        if not shutil.which("fc-match"):
            pytest.skip("fontconfig's fc-match is not installed")
        fonts = fontconfig_fonts(FONT)
        program = viz.Renderer("dot", shutil.which("dot"), ("svg",))
    else:
        fonts = [cmap for name, cmap in graphviz_pure_fonts().items() if name.startswith("Arimo")]
        program = viz.Renderer("graphviz-pure", _render._graphviz_pure(), ("svg",))
    assert fonts, f"no font found for {renderer}"
    # the glyph set itself, then every view as drawn
    assert {c for c in PICTURE_GLYPHS if not any(c in f for f in fonts)} == set()
    for view, graph in VIEWS.items():
        text, families = drawn_text(_render.render_source(graph.source, "svg", program))
        assert families == {FONT}, view
        missing = {c for c in set(text) if c.strip() and not any(c in f for f in fonts)}
        assert missing == set(), f"{renderer} has no glyph for {sorted(missing)} in {view}"


def test_graphviz_pure_draws_with_arimo_and_has_no_glyph_for_the_text_views_product():
    """Why the picture writes ◦: graphviz-pure's Arimo lacks ⊙ (so it would draw a box)."""
    if "graphviz-pure" not in renderers():
        pytest.skip("graphviz-pure is not installed")
    arimo = graphviz_pure_fonts()["Arimo Regular"]
    assert "⊙" not in arimo and "◦" in arimo and "δ" in arimo and "ŷ" in arimo
    tiny = ag.tensor([1.0], requires_grad=True)
    assert unsupported(viz.draw_backward((tiny * tiny).sum()).source) == set()
