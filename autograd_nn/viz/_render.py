"""From DOT text to pictures: finding a Graphviz program and running it.

The DOT source is always available (``graph.source``) and always written first. Images
need a layout program: the system's Graphviz ``dot`` is preferred; when it is missing,
``graphviz-pure`` (a self-contained Rust port of ``dot`` on PyPI, ``pip install
"autograd-nn[render]"``, SVG and PNG only) is used. The ``graphviz`` Python package itself
only ever runs a program called ``dot``, so ``Graph.save``, ``Graph.render``, ``Graph.pipe``
and Jupyter display go through ``find_renderer`` instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz

from .._atomic import atomic_write_bytes

FORMATS = ("svg", "png", "pdf")

HOW_TO_GET_A_RENDERER = (
    "no Graphviz layout program was found: install Graphviz's `dot` "
    "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; conda: "
    "conda install graphviz; Windows: https://graphviz.org/download/), or, with pip alone, "
    'pip install "autograd-nn[render]" (installs graphviz-pure: SVG and PNG, no PDF); or set '
    "AUTOGRAD_NN_DOT to the path of a dot-compatible program"
)


class RendererNotFoundError(RuntimeError):
    """No program that can lay out the graph in the requested format was found."""


@dataclass(frozen=True)
class Renderer:
    """A dot-compatible program: ``path`` to run, ``formats`` it can write."""

    name: str
    path: str
    formats: tuple[str, ...]


def _graphviz_pure() -> str | None:
    found = shutil.which("graphviz-pure")
    if found:
        return found
    # pip installs the program next to this interpreter's scripts, which may not be on PATH
    # (a virtual environment that was not activated).
    candidate = Path(sysconfig.get_path("scripts")) / "graphviz-pure"
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def find_renderer(format: str = "svg") -> Renderer | None:
    """The program that will render ``format``: ``$AUTOGRAD_NN_DOT``, else the system
    ``dot``, else ``graphviz-pure`` (not for PDF). ``None`` when there is none."""
    explicit = os.environ.get("AUTOGRAD_NN_DOT")
    if explicit:
        path = shutil.which(explicit) or explicit
        return Renderer(Path(path).name, path, FORMATS)
    dot = shutil.which("dot")
    if dot:
        return Renderer("dot", dot, FORMATS)
    if format in ("svg", "png"):
        pure = _graphviz_pure()
        if pure:
            return Renderer("graphviz-pure", pure, ("svg", "png"))
    return None


def render_source(source: str, format: str, renderer: Renderer | None = None) -> bytes:
    """Lay out DOT ``source`` and return the image bytes in ``format``."""
    if format not in FORMATS:
        raise ValueError(f"viz: format must be one of {FORMATS}, got {format!r}")
    renderer = renderer or find_renderer(format)
    if renderer is None:
        if format == "pdf" and _graphviz_pure():
            raise RendererNotFoundError(
                "viz: PDF needs Graphviz's own `dot` (graphviz-pure writes SVG and PNG only); " + HOW_TO_GET_A_RENDERER
            )
        raise RendererNotFoundError("viz: " + HOW_TO_GET_A_RENDERER)
    try:
        result = subprocess.run(
            [renderer.path, f"-T{format}"], input=source.encode("utf-8"), capture_output=True, check=False
        )
    except OSError as err:  # e.g. AUTOGRAD_NN_DOT names a program that is not there
        raise RendererNotFoundError(
            f"viz: cannot run the layout program {renderer.path!r} ({err.strerror or err}); " + HOW_TO_GET_A_RENDERER
        ) from None
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"viz: {renderer.name} could not render {format}: {message or 'no output'}")
    return result.stdout


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` (``.source``, ``.render()``, Jupyter display) that also
    renders without a system ``dot`` (via ``graphviz-pure``) and degrades to a message
    instead of an exception when no renderer exists."""

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write ``path`` as an image (format from ``format`` or the suffix: svg, png, pdf)
        and the DOT source next to it (``.dot``); return the image's path.

        The ``.dot`` file is written first, so when no renderer is found the
        ``RendererNotFoundError`` explains how to get one and the source is still there.
        """
        path = Path(path)
        format = (format or path.suffix.lstrip(".") or "svg").lower()
        if format == "dot":
            _write_atomically(path, self.source.encode("utf-8"))
            return path
        if path.suffix.lower() != f".{format}":
            path = path.with_name(path.name + f".{format}")
        dot_path = path.with_suffix(".dot")
        _write_atomically(dot_path, self.source.encode("utf-8"))
        try:
            image = render_source(self.source, format)
        except RendererNotFoundError as err:
            raise RendererNotFoundError(f"{err}. The DOT source was written to {dot_path}.") from None
        _write_atomically(path, image)
        return path

    def render(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        *,
        outfile: str | os.PathLike[str] | None = None,
        **_: Any,
    ) -> str:
        """``graphviz.Digraph.render``'s signature and files (the source at ``filename``,
        the image at ``filename.<format>`` or ``outfile``), laid out by ``find_renderer``,
        so it also works with ``graphviz-pure`` alone; returns the image's path."""
        if outfile is not None:
            image = Path(outfile)
            format = format or image.suffix.lstrip(".") or None
        format = (format or self.format or "pdf").lower()
        source = Path(directory if directory is not None else self.directory or "")
        source /= filename if filename is not None else (self.filename or f"{self.name or 'Digraph'}.gv")
        if outfile is None:
            image = source.with_name(f"{source.name}.{format}")
        elif filename is None and directory is None:
            source = image.with_suffix(".gv")
        _write_atomically(source, self.source.encode("utf-8"))
        try:
            _write_atomically(image, render_source(self.source, format))
        except RendererNotFoundError as err:
            raise RendererNotFoundError(f"{err}. The DOT source was written to {source}.") from None
        if cleanup:
            source.unlink()
        if view:
            graphviz.view(image)
        return str(image)

    def pipe(self, format: str | None = None, encoding: str | None = None, **_: Any) -> Any:
        """The image as bytes (text with ``encoding``), laid out by ``find_renderer``."""
        image = render_source(self.source, (format or self.format or "pdf").lower())
        return image.decode(encoding) if encoding is not None else image

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, Any]:
        wanted = set(include) if include is not None else {"image/svg+xml"}
        wanted -= set(exclude or ())
        bundle: dict[str, Any] = {}
        try:
            if "image/svg+xml" in wanted:
                bundle["image/svg+xml"] = render_source(self.source, "svg").decode("utf-8")
            if "image/png" in wanted:
                bundle["image/png"] = render_source(self.source, "png")
        except RendererNotFoundError:
            bundle = {"text/plain": f"{HOW_TO_GET_A_RENDERER}.\nThe graph's DOT source is in .source:\n{self.source}"}
        return bundle

    def _repr_svg_(self) -> str | None:
        try:
            return render_source(self.source, "svg").decode("utf-8")
        except RendererNotFoundError:
            return None
