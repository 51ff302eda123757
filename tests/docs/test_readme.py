"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"README.md block {number}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "{1: (128, 200), 2: (128, 1)}" in out
    assert "δ¹" in out  # explain_backward printed the recursion
    assert (tmp_path / "model.safetensors").stat().st_size > 56 * 200 * 8


def test_readme_commands_match_ci():
    ci = (README.parent / ".ci" / "run").read_text()
    commands = re.search(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S).group(1).splitlines()
    assert len(commands) == 2
    for command in commands:
        assert command in ci, f"the README's command {command!r} is not what CI runs"
