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


def test_readme_pictures_are_the_clis_own_output(tmp_path):
    """docs/images holds what `autograd-nn graph --expand --out docs/images` writes: the
    same DOT (numbers aside: their last digits may differ between BLAS builds), and the
    README shows those files and says how they were made."""
    from autograd_nn.cli import main

    images = README.parent / "docs" / "images"
    text = README.read_text(encoding="utf-8")
    assert "autograd-nn graph --expand --out docs/images" in text
    assert main(["graph", "--expand", "--out", str(tmp_path)]) == 0

    def shape_of(dot: str) -> str:
        return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", dot)

    for view in ("model_forward", "model_backward", "ops_forward", "ops_backward"):
        assert shape_of((images / f"{view}.dot").read_text()) == shape_of((tmp_path / f"{view}.dot").read_text()), view
        assert (images / f"{view}.png").stat().st_size > 10_000 and (images / f"{view}.svg").exists()
    for shown in re.findall(r'src="(docs/images/[^"]+)"', text):
        assert (README.parent / shown).exists(), shown
