"""The repository holds only our own work: no third-party source is tracked.

Third-party code comes in as a dependency from a package registry (MathJax for the docs,
for one, comes from the PyPI package sphinx-mathjax-offline), never copied into the tree.
Every file git tracks, or would add (untracked and not ignored), is checked for

- another project's copyright notice or license text (ours is allowed: a LICENSE file at the
  root whose notices all name the autograd_nn developers);
- a minified or bundled build: a ``*.min.*`` name, a web asset (.js, .css, ...) with
  machine-length lines, or a webpack bundle under any name;
- a folder that holds others' code by its very name (node_modules, vendor, third_party).

The detector is checked against real third-party files that the test environment installs
anyway (license files of numpy, pytest and hypothesis; MathJax's bundle) and against our
own MIT license text.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
# This module's samples are foreign notices on purpose; it is the one file not scanned.
THIS = PurePosixPath(Path(__file__).resolve().relative_to(ROOT).as_posix())

_NOTICE = re.compile(r"\bcopyright\s*(?:\(c\)|©|\d{4})[^\n]*|©\s*\d{4}[^\n]*", re.I)
_OURS = re.compile(r"autograd[_-]nn", re.I)
_LICENSE_TEXT = re.compile(
    "|".join(
        [
            r"SPDX-License-Identifier\s*:",
            r"@(?:license|preserve)\b",  # the banners minifiers keep
            r"\blicensed\s+under\s+the\b",
            r"\bapache\s+license\b",
            r"\b(?:gnu\s+)?(?:lesser\s+|library\s+|affero\s+)?general\s+public\s+license\b",
            r"\bmozilla\s+public\s+license\b",
            r"\bredistribution\s+and\s+use\s+in\s+source\s+and\s+binary\s+forms\b",
            r"\bpermission\s+is\s+hereby\s+granted\b",  # MIT / X11
            r"\bpermission\s+to\s+use,\s+copy,\s+modify\b",  # ISC and kin
            r"\bthe\s+software\s+is\s+provided\s+\W?as\s+is\b",
            r"\bdedicated\s+all\s+copyright\b|creativecommons\.org/(?:licenses|publicdomain)",  # CC0, CC-BY
        ]
    ),
    re.I,
)
_OUR_LICENSE_FILES = {"LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING"}  # at the root only
_WEB_ASSETS = {".js", ".mjs", ".cjs", ".css", ".map"}
_MACHINE_LINE = 400  # characters: longer lines in a web asset were written by a minifier
_BUNDLE = re.compile(r"__webpack_(?:require|modules)__|\bsourceMappingURL=")
_VENDOR_FOLDERS = {"node_modules", "bower_components", "vendor", "vendored", "third_party", "site-packages"}


def third_party_signs(path: PurePosixPath, text: str) -> list[str]:
    """Why the file at ``path`` (relative to the root) with contents ``text`` looks like
    someone else's work; empty when it looks like ours."""
    signs = []
    folders = {part.lower() for part in path.parts[:-1]}
    if folders & _VENDOR_FOLDERS:
        signs.append(f"lies in a folder of others' code ({', '.join(sorted(folders & _VENDOR_FOLDERS))})")
    if ".min." in path.name.lower():
        signs.append("is named as a minified build")
    if path.suffix.lower() in _WEB_ASSETS:
        longest = max((len(line) for line in text.splitlines()), default=0)
        if longest > _MACHINE_LINE:
            signs.append(f"is a minified web asset (a line of {longest} characters)")
    if bundle := _BUNDLE.search(text):
        signs.append(f"is a bundled build ({bundle.group()!r})")

    notices = [m.group().strip() for m in _NOTICE.finditer(text)]
    foreign = [n for n in notices if not _OURS.search(n)]
    if foreign:
        signs.append(f"carries another's copyright notice: {foreign[0][:120]!r}")
    if license_text := _LICENSE_TEXT.search(text):
        ours = str(path) in _OUR_LICENSE_FILES and notices and not foreign
        if not ours:
            signs.append(f"carries license text: {' '.join(license_text.group().split())!r}")
    return signs


def _repository_files() -> list[PurePosixPath]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout: there is no file list to check")
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [PurePosixPath(name) for name in listing.split("\0") if name]


def _text(path: Path) -> str | None:
    """The file's text, or None for a binary file (an image) or one deleted but not yet staged."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def test_no_file_in_the_repository_is_third_party_work():
    files = _repository_files()
    assert len(files) > 50 and PurePosixPath("docs/conf.py") in files  # the listing is real
    offenders = []
    for name in files:
        if name == THIS or (text := _text(ROOT / name)) is None:
            continue
        offenders += [f"{name}: {sign}" for sign in third_party_signs(name, text)]
    assert not offenders, "third-party work in the repository (take it as a dependency instead):\n" + "\n".join(
        offenders
    )


def test_no_mathjax_copy_is_tracked():
    # MathJax reaches the site from the package sphinx-mathjax-offline (docs/conf.py)
    assert not [name for name in _repository_files() if "mathjax" in str(name).lower()]


# --- the detector against known answers ------------------------------------------------------
OUR_MIT_LICENSE = """MIT License

Copyright (c) 2025 the autograd_nn developers

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY.
"""


def test_our_own_license_and_code_pass():
    assert third_party_signs(PurePosixPath("LICENSE"), OUR_MIT_LICENSE) == []
    assert third_party_signs(PurePosixPath("autograd_nn/tensor.py"), '"""Tensors."""\ncopyright = "x"\n') == []
    readable_css = "body {\n  margin: 0;\n}\n" * 50
    assert third_party_signs(PurePosixPath("docs/_static/custom.css"), readable_css) == []


def test_our_license_text_is_ours_only_at_the_root():
    assert third_party_signs(PurePosixPath("docs/_static/LICENSE"), OUR_MIT_LICENSE)  # a copy beside a bundle
    someone_else = OUR_MIT_LICENSE.replace("the autograd_nn developers", "Example Corp")
    assert "carries another's copyright notice: 'Copyright (c) 2025 Example Corp'" in third_party_signs(
        PurePosixPath("LICENSE"), someone_else
    )


@pytest.mark.parametrize(
    "path, text, sign",
    [
        ("autograd_nn/fast.py", "# SPDX-License-Identifier: BSD-3-Clause\nx = 1\n", "license text"),
        ("docs/theme.js", "/*! @license Example v1 | (c) Example */\nvar a=1;\n", "license text"),
        ("docs/theme.js", "/*!\n * Example v1\n * Copyright 2011-2024 The Example Authors\n */\n", "copyright"),
        ("docs/a.js", "var a=1;" * 100, "minified web asset"),
        ("docs/a.txt", "(function(){var __webpack_modules__={}})();\n", "bundled build"),
        ("docs/_static/jquery.min.js", "x\n", "minified build"),
        ("docs/node_modules/x/index.js", "module.exports = 1;\n", "folder of others' code"),
        ("tests/helpers.py", "# © 2019 Someone Else\n", "copyright"),
    ],
)
def test_third_party_signs_are_caught(path, text, sign):
    signs = third_party_signs(PurePosixPath(path), text)
    assert any(sign in s for s in signs), signs


def _license_files(distribution: str) -> list[Path]:
    dist = metadata.distribution(distribution)
    files = [f for f in dist.files or [] if re.match(r"(licen[cs]e|copying)", f.name, re.I)]
    return [Path(dist.locate_file(f)) for f in files]


@pytest.mark.parametrize("distribution", ["numpy", "pytest", "hypothesis"])
def test_installed_projects_license_files_are_caught(distribution):
    """Real license files of installed dependencies (BSD, MIT with another holder, MPL-2.0),
    dropped into the tree as a root LICENSE, are recognised as not ours."""
    files = _license_files(distribution)
    assert files, f"{distribution} ships no license file to test against"
    missed = [f for f in files if not third_party_signs(PurePosixPath("LICENSE"), f.read_text("utf-8", "replace"))]
    assert not missed, missed


def test_the_mathjax_bundle_is_caught():
    """The file the docs once vendored, from the package that now provides it."""
    try:
        dist = metadata.distribution("sphinx-mathjax-offline")
    except metadata.PackageNotFoundError:
        pytest.skip("the docs extra is not installed: pip install -e '.[dev]'")
    bundle = next(f for f in dist.files or [] if f.as_posix().endswith("static/mathjax/tex-svg-full.js"))
    text = Path(dist.locate_file(bundle)).read_text("utf-8")
    signs = third_party_signs(PurePosixPath("docs/_static/mathjax/tex-svg-full.js"), text)
    assert any("minified web asset" in s for s in signs) and any("bundled build" in s for s in signs), signs
