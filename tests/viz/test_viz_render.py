"""Pictures from DOT: real images through a renderer, clear messages without one."""

from __future__ import annotations

import shutil
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import autograd_nn as ag
from autograd_nn import viz
from autograd_nn.viz import _render

sys.path.insert(0, str(Path(__file__).parent))
from viz_fakes import bike_network  # noqa: E402


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def check_images(svg: Path, png: Path) -> None:
    root = ET.fromstring(svg.read_bytes())
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "Sigmoid" in text and "δ" in text and "W¹" in text
    width, height = png_size(png.read_bytes())
    assert 300 < width < 10_000 and 300 < height < 10_000
    assert png.stat().st_size > 10_000


def bike_backward() -> viz.Graph:
    model, x, y = bike_network(hidden=16)
    return viz.draw_model(model, x, y, ag.functional.mse_loss, backward=True, expand=True)


def test_svg_and_png_through_the_preferred_renderer(tmp_path):
    renderer = viz.find_renderer("png")
    if renderer is None:
        pytest.skip("no Graphviz renderer installed (dot or graphviz-pure)")
    graph = bike_backward()
    svg, png = graph.save(tmp_path / "b.svg"), graph.save(tmp_path / "b.png")
    check_images(svg, png)
    assert (tmp_path / "b.dot").read_text() == graph.source


def test_graphviz_pure_renders_when_installed(tmp_path):
    path = _render._graphviz_pure()
    if path is None:
        pytest.skip("graphviz-pure is not installed (pip install 'autograd-nn[render]')")
    renderer = viz.Renderer("graphviz-pure", path, ("svg", "png"))
    source = bike_backward().source
    (tmp_path / "b.svg").write_bytes(_render.render_source(source, "svg", renderer))
    (tmp_path / "b.png").write_bytes(_render.render_source(source, "png", renderer))
    check_images(tmp_path / "b.svg", tmp_path / "b.png")


def test_dot_is_preferred_and_graphviz_pure_is_the_fallback(monkeypatch, tmp_path):
    monkeypatch.delenv("AUTOGRAD_NN_DOT", raising=False)
    fake = tmp_path / "graphviz-pure"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(_render, "_graphviz_pure", lambda: str(fake))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    pure = viz.find_renderer("svg")
    assert pure.name == "graphviz-pure" and pure.path == str(fake) and pure.formats == ("svg", "png")
    assert viz.find_renderer("pdf") is None  # graphviz-pure writes no PDF
    with pytest.raises(viz.RendererNotFoundError, match="PDF needs Graphviz's own `dot`"):
        _render.render_source("digraph {}", "pdf")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot" if name == "dot" else None)
    dot = viz.find_renderer("svg")
    assert (dot.name, dot.path, dot.formats) == ("dot", "/usr/bin/dot", ("svg", "png", "pdf"))
    assert viz.find_renderer("pdf") == dot


def test_without_a_renderer_the_message_says_how_and_the_dot_file_is_written(monkeypatch, tmp_path):
    monkeypatch.setattr(_render, "find_renderer", lambda format="svg": None)
    monkeypatch.setattr(_render, "_graphviz_pure", lambda: None)
    graph = bike_backward()
    with pytest.raises(viz.RendererNotFoundError, match=r"apt-get install graphviz.*autograd-nn\[render\]") as err:
        graph.save(tmp_path / "out.png")
    assert str(tmp_path / "out.dot") in str(err.value)
    assert (tmp_path / "out.dot").read_text() == graph.source
    assert not (tmp_path / "out.png").exists()
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "apt-get install graphviz" in bundle["text/plain"]
    assert graph._repr_svg_() is None


def test_jupyter_display_renders_svg_when_a_renderer_exists():
    if viz.find_renderer("svg") is None:
        pytest.skip("no Graphviz renderer installed")
    bundle = bike_backward()._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="format must be one of"):
        _render.render_source("digraph {}", "gif")


def test_a_missing_explicit_renderer_is_reported_and_the_dot_kept(tmp_path, monkeypatch):
    missing = str(tmp_path / "no-such-dot")
    monkeypatch.setenv("AUTOGRAD_NN_DOT", missing)
    graph = bike_backward()
    with pytest.raises(viz.RendererNotFoundError, match="cannot run the layout program .*no-such-dot"):
        graph.save(tmp_path / "g.svg")
    assert (tmp_path / "g.dot").read_text() == graph.source


@pytest.mark.parametrize("program", ["dot", "graphviz-pure"])
def test_the_digraph_api_render_and_pipe_work_with_either_renderer(program, tmp_path, monkeypatch):
    """``Graph`` is a ``graphviz.Digraph``: its own ``render``/``pipe`` (what graphviz users
    call) write the same files and bytes, laid out by whichever renderer is found."""
    path = shutil.which("dot") if program == "dot" else _render._graphviz_pure()
    if path is None:
        pytest.skip(f"{program} is not installed")
    monkeypatch.setenv("AUTOGRAD_NN_DOT", path)
    graph = bike_backward()
    out = graph.render("net", directory=tmp_path, format="png")
    assert out == str(tmp_path / "net.png") and (tmp_path / "net").read_text() == graph.source
    width, height = png_size((tmp_path / "net.png").read_bytes())
    assert 300 < width < 10_000 and 300 < height < 10_000
    svg = graph.render(outfile=tmp_path / "sub" / "net.svg", cleanup=True)
    assert svg == str(tmp_path / "sub" / "net.svg") and not (tmp_path / "sub" / "net.gv").exists()
    assert ET.fromstring((tmp_path / "sub" / "net.svg").read_bytes()).tag.endswith("svg")
    assert graph.pipe(format="svg", encoding="utf-8") == (tmp_path / "sub" / "net.svg").read_text()
    assert graph.pipe(format="png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_without_a_renderer_keeps_the_source_and_says_how(tmp_path, monkeypatch):
    monkeypatch.setattr(_render, "find_renderer", lambda format="svg": None)
    monkeypatch.setattr(_render, "_graphviz_pure", lambda: None)
    graph = bike_backward()
    with pytest.raises(viz.RendererNotFoundError, match=r"apt-get install graphviz.*written to .*g\.gv"):
        graph.render(tmp_path / "g.gv", format="svg")
    assert (tmp_path / "g.gv").read_text() == graph.source and not (tmp_path / "g.gv.svg").exists()
