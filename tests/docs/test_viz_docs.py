"""The ```python blocks of docs/visualising.md run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "visualising.md"


def test_docs_examples_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    printed = capsys.readouterr().out
    assert "δ¹ (128×200) = δ² · W² ⊙ σ'(z¹)" in printed


def test_docs_images_exist_and_are_png():
    for name in ["bike_forward.png", "bike_backward.png"]:
        data = (DOC.parent / "images" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
