"""Sphinx configuration for the autograd_nn documentation.

Why Sphinx: it is the long-term choice. MkDocs 1.x is no longer maintained and the
Material theme announces its end of life (May 2027); Sphinx has been the Python
documentation tool for fifteen years, and autodoc reads our numpydoc docstrings directly.
Pages are Markdown (MyST); math is rendered by MathJax, copied into the site from an
installed package, so the built site fetches nothing from the network.

Build (strict: any warning, including a broken reference, fails)::

    python3 -m sphinx -W --keep-going -n -b html docs docs/_build/html
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # document the checkout, not some installed copy

import autograd_nn  # noqa: E402

project = "autograd_nn"
author = "the autograd_nn developers"
copyright = "the autograd_nn developers"
release = version = autograd_nn.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "Thumbs.db", ".DS_Store"]

# --- Markdown --------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3  # [text](page.md#a-section) links resolve (and are checked)

# --- math, offline -----------------------------------------------------------------
# MathJax is a dependency, not part of this repository: the PyPI package
# sphinx-mathjax-offline (in the `docs` extra) ships MathJax 3.2.2's files. Chosen over the
# npm package mathjax@3 because every docs tool installs with pip, so `pip install -e
# ".[dev]"` is all a fresh machine needs; npm would add Node as a second toolchain to the
# README's commands and CI. Used as a data package, not as the Sphinx extension its README
# suggests: that extension forces mathjax_path to tex-chtml.js (HTML output with web fonts)
# and copies all 24 MB of MathJax's components into every build. The site needs one file,
# tex-svg-full.js, MathJax's self-contained bundle (all TeX extensions; SVG output draws
# glyphs as paths, so no font files are loaded); it is copied as a static file into _static.
MATHJAX_PACKAGE = "sphinx-mathjax-offline"
MATHJAX_BUNDLE = "sphinx-mathjax-offline/static/mathjax/tex-svg-full.js"  # inside the package


def _packaged_mathjax() -> Path:
    try:
        package = metadata.distribution(MATHJAX_PACKAGE)
    except metadata.PackageNotFoundError:
        raise RuntimeError(
            f"the docs build takes MathJax from the package {MATHJAX_PACKAGE}, which is not installed: "
            "pip install -e '.[docs]' (the dev extra includes it)"
        ) from None
    bundle = Path(package.locate_file(MATHJAX_BUNDLE))
    if not bundle.is_file():
        raise RuntimeError(f"{MATHJAX_PACKAGE} {package.version} does not ship {MATHJAX_BUNDLE} (looked at {bundle})")
    return bundle


html_static_path = [str(_packaged_mathjax())]  # a file entry is copied into _static itself
mathjax_path = "tex-svg-full.js"  # relative to _static

# --- API reference -----------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Offline builds have no intersphinx inventories for Python and numpy, so references to
# their types in signatures cannot resolve; everything of ours must (nitpicky mode).
nitpick_ignore_regex = [
    (r"py:(class|obj|data)", r"(typing|collections\.abc|types|os|pathlib|io)\..*"),
    (r"py:(class|obj|data)", r"(np|numpy)\..*"),
    (r"py:(class|obj|data)", r"Any|Callable|Iterable|Iterator|Sequence|Mapping|Literal|F|Shape"),
    (r"py:(class|obj|data)", r"hypothesis\..*"),  # an optional dependency, not documented here
    # builtins, also as the fragments Sphinx leaves of a subscripted annotation: "tuple[str"
    (r"py:(class|obj|data)", r"(int|float|bool|str|bytes|tuple|list|dict|set|frozenset|type|object|None)(\[.*)?"),
]

# --- HTML --------------------------------------------------------------------------
html_theme = "furo"
html_title = f"autograd_nn {release}"
html_permalinks_icon = "#"

# --- the table of contents ---------------------------------------------------------
# index.md lists the pages in reading order. Several pages are written on other branches
# and arrive later, so a listed page that does not exist (yet) is dropped from the
# toctree, and a page that exists but is not listed is appended before the API
# reference: the site always lists exactly the pages that exist, and a newly added page
# can never fail the strict build by being left out.
_TOCTREE = re.compile(r"(```\{toctree\}\n(?::[^\n]*\n)*\n?)(.*?)(\n```)", re.DOTALL)


def _complete_toctree(app, docname: str, source: list[str]) -> None:
    if docname != root_doc:
        return
    pages = sorted(app.env.found_docs - {root_doc})

    def rewrite(match: re.Match[str]) -> str:
        listed = [line.strip() for line in match.group(2).splitlines() if line.strip()]
        present = [page for page in listed if page in pages]
        unlisted = [page for page in pages if page not in listed]
        at = present.index("api") if "api" in present else len(present)
        entries = present[:at] + unlisted + present[at:]
        return match.group(1) + "\n".join(entries) + match.group(3)

    source[0] = _TOCTREE.sub(rewrite, source[0], count=1)


def _reread_index_when_pages_change(app, env, added, changed, removed) -> list[str]:
    # an incremental build must recompute the toctree when a page appears or goes
    return [root_doc] if added or removed else []


def setup(app):
    app.connect("source-read", _complete_toctree)
    app.connect("env-get-outdated", _reread_index_when_pages_change)
