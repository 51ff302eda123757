"""mutation/run.py on a tiny repository of its own: it reports killed, survived, stale and
ambiguous mutations, restores every file, and scores killed / (killed + survived). And the
catalogue it reads is well formed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


runner = _module("mutation_runner", ROOT / "mutation" / "run.py")

CALC = "def add(a, b):\n    return a + b\n\n\ndef unused(a):\n    return a * 2\n\n\nONE = 1\nTWO = 1 + 1\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
CATALOGUE = """
from typing import NamedTuple

class Mutation(NamedTuple):
    id: str
    file: str
    old: str
    new: str
    tests: tuple
    why: str

T = ("tests/test_calc.py",)
MUTATIONS = [
    Mutation("add-subtracts", "calc.py", "return a + b", "return a - b", T, "killed"),
    Mutation("unused-triples", "calc.py", "return a * 2", "return a * 3", T, "survives: nothing tests it"),
    Mutation("gone", "calc.py", "return a / b", "return a // b", T, "stale: the text is not there"),
    Mutation("twice", "calc.py", "1", "2", T, "ambiguous: the text occurs several times"),
    Mutation("missing-file", "nowhere.py", "x", "y", T, "stale: no such file"),
]
"""


def test_the_runner_classifies_restores_and_scores(tmp_path):
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "calc.py").write_text(CALC)
    (repo / "tests" / "test_calc.py").write_text(TEST)
    (repo / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    (repo / "autograd_nn").mkdir()  # the runner checks that the copy imports its own package
    (repo / "autograd_nn" / "__init__.py").write_text("")
    (tmp_path / "catalogue.py").write_text(CATALOGUE)
    report = tmp_path / "report.json"
    code = runner.main(["--repo", str(repo), "--catalogue", str(tmp_path / "catalogue.py"), "--json", str(report)])
    results = json.loads(report.read_text())
    status = {r["id"]: r["status"] for r in results["results"]}
    assert status == {
        "add-subtracts": "killed", "unused-triples": "survived", "gone": "stale", "twice": "ambiguous",
        "missing-file": "stale",
    }  # fmt: skip
    assert results["summary"]["score"] == 0.5 and results["summary"]["mutations"] == 5
    assert "test_calc.py::test_add" in next(r["detail"] for r in results["results"] if r["id"] == "add-subtracts")
    assert code == 1  # a survivor fails the run
    assert (repo / "calc.py").read_text() == CALC  # the original is never touched


def test_the_catalogue_is_well_formed():
    catalogue = runner.load_catalogue(ROOT / "mutation" / "catalogue.py")  # unique ids, each changes something
    assert len(catalogue) >= 40
    areas = {m.id.split("-")[0] for m in catalogue}
    assert {"nn", "optim", "ckpt", "data", "viz", "testing", "example", "core", "cli"} <= areas
    for m in catalogue:
        assert m.why and m.tests, m.id
        for test in m.tests:
            assert (ROOT / test.split("::")[0]).exists(), f"{m.id}: no test path {test}"


def test_every_mutation_applies_to_the_code_as_it_is():
    """No stale or ambiguous entry: each one's text occurs exactly once in its file. When code
    moves on, re-target its entries (new text, same bug): ``mutation/run.py --list`` shows them."""
    problems = []
    for m in runner.load_catalogue(ROOT / "mutation" / "catalogue.py"):
        path = ROOT / m.file
        count = path.read_text(encoding="utf-8").count(m.old) if path.is_file() else 0
        if count != 1:
            problems.append(f"{m.id}: {'stale' if count == 0 else f'ambiguous ({count} matches)'} in {m.file}")
    assert not problems, "\n".join(problems)
