"""The ```python blocks of docs/visualising.md run, in order, in one namespace, and the text
the page shows is what those blocks produce."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "visualising.md"


def without_numbers(text: str) -> str:
    """The text with its numbers masked (their last digits depend on the BLAS build)."""
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", text)


def test_docs_examples_run_and_the_text_shown_is_theirs(tmp_path, monkeypatch, capsys):
    page = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert capsys.readouterr().out == ""  # nothing prints behind your back
    shown = re.findall(r"```text\n(.*?)```", page, re.S)
    assert without_numbers(shown[0].rstrip("\n")) == without_numbers(repr(namespace["explanation"]))
    assert without_numbers(shown[1].rstrip("\n")) == without_numbers(repr(namespace["dropped"]))
    assert repr(namespace["explanation"]).splitlines()[8].startswith("  δ² (128×1) = 2(ŷ − y)/n")


def test_docs_images_exist_and_are_pictures():
    page = DOC.read_text(encoding="utf-8")
    shown = re.findall(r"```\{image\} (images/\S+)", page)
    assert {"images/model_backward.png", "images/ops_backward.png", "images/model_backward.svg"} <= set(shown)
    for name in shown:
        data = (DOC.parent / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" if name.endswith(".png") else data.lstrip()[:5] == b"<?xml"
