"""The documentation cannot rot: every example runs, the site builds in strict mode, and a
real browser renders its math offline.

- Every ```python block of every ``docs/*.md`` page runs, the blocks of one page in order
  in one namespace, with the working directory in a temporary folder. A block opts out
  only visibly, with ```python no-run. A page whose examples need optional packages
  names them in a comment, ``<!-- requires: torch onnx -->``; without them it is skipped.
- The site builds with ``sphinx -W --keep-going -n`` (skipped when the ``docs`` extra is
  not installed; CI installs it), lists every page, and links nothing from the network.
- MathJax is the packaged one (sphinx-mathjax-offline, byte for byte), and headless
  Chromium (skipped only when it is absent) shows that it typeset every formula, and that
  the page requested nothing over the network.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import pytest

import autograd_nn
import autograd_nn.functional
import autograd_nn.testing

DOCS = Path(__file__).resolve().parents[2] / "docs"
SHARED = DOCS.parents[1] / "shared"  # ../shared beside the checkout: read-only data, never in the repo
PAGES = sorted(p for p in DOCS.glob("*.md") if p.name != "README.md")  # README: notes, not a page
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
_PYTHON_INFO = re.compile(r"^(?:python3?|py|\{code-block\}\s+python3?|\{code\}\s+python3?)(?:\s+(?P<flags>.*))?$")


class Block(NamedTuple):
    line: int  # line of the block's first code line in the page, 1-based
    source: str


def python_blocks(text: str) -> list[Block]:
    """The runnable python blocks of a Markdown page, in order.

    HTML comments are blanked out (keeping line numbers), so a block inside a comment —
    not shown on the site — is not run either.
    """
    text = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    blocks = []
    for match in _FENCE.finditer(text):
        info = _PYTHON_INFO.match(match["info"].strip())
        if info is None or "no-run" in (info["flags"] or "").split():
            continue
        line = text.count("\n", 0, match.start("body")) + 1
        blocks.append(Block(line, match["body"]))
    return blocks


PAGES_WITH_CODE = [p for p in PAGES if python_blocks(p.read_text(encoding="utf-8"))]


def test_block_extraction():
    page = (
        "# Title\n"  # 1
        "```python\n"  # 2
        "a = 1\n"  # 3
        "```\n"
        "```python no-run\n"
        "raise SystemExit\n"
        "```\n"
        "<!--\n"
        "```python\n"
        "raise SystemExit\n"
        "```\n"
        "-->\n"
        "```bash\n"
        "ls\n"
        "```\n"
        "````{code-block} python\n"  # 16
        "b = a + 1\n"  # 17
        "````\n"
    )
    assert python_blocks(page) == [Block(3, "a = 1\n"), Block(17, "b = a + 1\n")]


def test_the_worked_pages_have_runnable_examples():
    with_code = {p.stem for p in PAGES_WITH_CODE}
    assert {"index", "quickstart", "delta_equations", "higher_order", "engine"} <= with_code


_REQUIRES = re.compile(r"<!--\s*requires:\s*(?P<modules>[\w .]+?)\s*-->")


def required_modules(text: str) -> list[str]:
    """The optional packages a page's examples need, named in a comment ``<!-- requires: torch onnx -->``."""
    return [name for match in _REQUIRES.finditer(text) for name in match["modules"].split()]


def test_a_page_names_the_packages_its_examples_need():
    assert required_modules("# T\n<!-- requires: torch onnxruntime -->\n") == ["torch", "onnxruntime"]
    assert required_modules("# T\n") == []


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: p.name)
def test_page_examples_run(page, tmp_path, monkeypatch):
    text = page.read_text(encoding="utf-8")
    for module in required_modules(text):  # CI installs them: there a skip fails the run
        pytest.importorskip(module, reason=f"{page.name} needs {module} (see the page's requires comment)")
    # A page may read the shared data by the path a reader uses from the checkout's root,
    # "../shared/...": mirror that layout around the temporary working directory.
    if "../shared/" in text and not SHARED.is_dir():
        pytest.skip(f"{page.name} reads the shared data, which is absent here ({SHARED})")
    work = tmp_path / "checkout"
    work.mkdir()
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED, target_is_directory=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # a page may plot; never open a window
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    for block in python_blocks(text):
        # padding with newlines makes tracebacks point at the page's own line numbers
        code = compile("\n" * (block.line - 1) + block.source, str(page), "exec")
        exec(code, namespace)


# --- every public name has a docstring -----------------------------------------------
def _public_objects():
    for module in (autograd_nn, autograd_nn.functional, autograd_nn.testing):
        for name in module.__all__:
            yield f"{module.__name__}.{name}", getattr(module, name)
    for cls in (autograd_nn.Tensor, autograd_nn.Function, autograd_nn.Node):
        for name, member in vars(cls).items():
            if name.startswith("_") or not (callable(member) or isinstance(member, (property, staticmethod))):
                continue
            yield f"{cls.__name__}.{name}", getattr(cls, name) if not isinstance(member, property) else member.fget


def test_every_public_name_has_a_docstring():
    missing = [name for name, obj in _public_objects() if not inspect.getdoc(obj)]
    assert not missing, f"public names without a docstring (the API reference would omit them): {missing}"


def test_the_api_page_gives_the_onnx_default_opset_that_export_uses():
    """docs/api.md writes DEFAULT_OPSET's value out (a py:data entry: autodoc reads ``#:``
    comments only in the module that assigns a name, and autograd_nn.onnx re-exports it)."""
    from autograd_nn.onnx import DEFAULT_OPSET

    page = (DOCS / "api.md").read_text(encoding="utf-8")
    entry = page[page.index(".. py:data:: autograd_nn.onnx.DEFAULT_OPSET") :]
    assert re.search(r":value: (\d+)", entry)[1] == str(DEFAULT_OPSET)


# --- the site --------------------------------------------------------------------------
def _sphinx_build(source: Path, out: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html"]
    command += ["-d", str(out / "doctrees"), str(source), str(out / "html")]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=DOCS.parent)


def _require_docs_extra() -> None:
    if sys.version_info < (3, 11):  # pyproject's markers: the docs extra installs nothing on 3.10
        pytest.skip("Sphinx 9 needs Python >= 3.11")
    for module in ("sphinx", "myst_parser", "furo"):
        pytest.importorskip(module, reason="the docs extra is not installed: pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    _require_docs_extra()
    out = tmp_path_factory.mktemp("site")
    return _sphinx_build(DOCS, out), out / "html"


def _built(site) -> Path:
    result, html = site
    assert result.returncode == 0, f"the strict docs build failed:\n{result.stdout}\n{result.stderr}"
    return html


def test_site_builds_in_strict_mode(site):
    result, html = site
    _built(site)
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    for page in PAGES:
        assert (html / f"{page.stem}.html").is_file(), f"{page.name} was not built"


def _contents(index_html: str) -> list[str]:
    """The pages the index's table of contents links to, in order (not the sidebar's copy)."""
    toctree = index_html[index_html.index('class="toctree-wrapper') :]
    return re.findall(r'<li class="toctree-l1"><a class="reference internal" href="([\w-]+)\.html">', toctree)


def test_the_contents_list_every_page_once(site):
    links = _contents((_built(site) / "index.html").read_text(encoding="utf-8"))
    assert sorted(links) == sorted(p.stem for p in PAGES if p.stem != "index")
    assert links[-1] == "api"


def test_contents_follow_the_pages_that_exist(tmp_path):
    """A page listed in index.md that does not exist yet is dropped; a page that exists but is
    not listed is added before the API reference: neither fails the strict build."""
    _require_docs_extra()
    source = tmp_path / "docs"
    source.mkdir()
    shutil.copy(DOCS / "conf.py", source)
    shutil.copytree(DOCS / "_ext", source / "_ext")
    toctree = re.search(r"```\{toctree\}.*?\n```", (DOCS / "index.md").read_text(encoding="utf-8"), re.S)
    assert toctree and "\nmodels\n" in toctree.group()  # listed in index.md, absent here
    (source / "index.md").write_text(f"# Home\n\n{toctree.group()}\n", encoding="utf-8")
    for name in ("quickstart", "zeta_new_guide", "api"):
        (source / f"{name}.md").write_text(f"# {name}\n\nText.\n", encoding="utf-8")
    result = _sphinx_build(source, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    links = _contents((tmp_path / "out" / "html" / "index.html").read_text(encoding="utf-8"))
    assert links == ["quickstart", "zeta_new_guide", "api"]


class _Tags(HTMLParser):
    """Collects (tag, attribute, value) for every URL-carrying attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "data", "poster", "srcset") and value:
                self.urls.append((tag, name, value))


def test_no_page_loads_anything_from_the_network(site):
    html = _built(site)
    remote = re.compile(r"^\s*(https?:)?//", re.I)
    offenders = []
    for page in html.rglob("*.html"):
        tags = _Tags()
        tags.feed(page.read_text(encoding="utf-8"))
        for tag, attribute, url in tags.urls:
            # <a href> is a link the reader may follow; anything else would be fetched
            if tag != "a" and remote.match(url):
                offenders.append(f"{page.relative_to(html)}: <{tag} {attribute}={url}>")
    for css in html.rglob("*.css"):
        for url in re.findall(r"(?:@import\s+|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)", css.read_text("utf-8")):
            offenders.append(f"{css.relative_to(html)}: {url}")
    assert not offenders, "\n".join(offenders)


def _packaged_mathjax() -> Path:
    """tex-svg-full.js as the package sphinx-mathjax-offline installed it (found from the
    package's own file list, not from docs/conf.py)."""
    dist = metadata.distribution("sphinx-mathjax-offline")
    bundle = next(f for f in dist.files or [] if f.as_posix().endswith("static/mathjax/tex-svg-full.js"))
    return Path(dist.locate_file(bundle))


def test_math_is_served_by_the_packaged_mathjax(site):
    html = _built(site)
    page = (html / "delta_equations.html").read_text(encoding="utf-8")
    scripts = [s.split("?")[0] for s in re.findall(r'<script[^>]*src="([^"]*)"', page)]
    assert [s for s in scripts if "mathjax" in s.lower() or "tex-" in s] == ["_static/tex-svg-full.js"]
    served = (html / "_static" / "tex-svg-full.js").read_bytes()
    assert served == _packaged_mathjax().read_bytes()  # the installed package's file, byte for byte
    assert re.search(rb'VERSION="3\.\d+\.\d+"', served)  # MathJax 3, whose bundle this is


# --- a real browser ------------------------------------------------------------------------
class BrowserView(NamedTuple):
    dom: str
    page_requests: list[str]  # network requests the page made (not the browser's own)


def _browse(url: str, tmp_path: Path) -> BrowserView:
    """Open ``url`` in headless Chromium; return the DOM after scripts ran, and the URLs
    the page requested over the network (read from Chromium's network log)."""
    net_log = tmp_path / "net-log.json"
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
        f"--log-net-log={net_log}", "--dump-dom", url,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and "<html" in result.stdout, result.stderr[-3000:]
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and "url" in event.get("params", {})
        # the browser's own traffic (sign-in, clock sync) has no origin; a page's has one
        and event["params"].get("initiator") != "not an origin"
    ]
    return BrowserView(result.stdout, requests)


def _visible_text(dom: str) -> str:
    return re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S | re.I)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_math_renders_offline_in_a_real_browser(site, tmp_path):
    html = _built(site)
    page = html / "delta_equations.html"
    formulas = len(re.findall(r'<(?:span|div) class="math[ "]', page.read_text(encoding="utf-8")))
    assert formulas > 50

    view = _browse(page.as_uri(), tmp_path)
    assert view.dom.count("<mjx-container") == formulas  # every formula typeset ...
    assert view.dom.count("<svg") >= formulas  # ... drawn as SVG
    text = _visible_text(view.dom)
    left = [d for d in ("$$", "\\(", "\\)", "\\[", "\\]") if d in text]
    assert not left, f"raw TeX delimiters left in the rendered page: {left}"
    assert view.page_requests == []


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_browser_check_sees_a_network_fetch(tmp_path):
    """The network-log check above is only worth something if it catches a fetch."""
    page = tmp_path / "fetches.html"
    page.write_text('<html><head><script src="https://cdn.invalid/x.js"></script></head><body>x</body></html>')
    view = _browse(page.as_uri(), tmp_path)
    assert view.page_requests == ["https://cdn.invalid/x.js"]
