"""Mutation testing: put deliberate bugs into a scratch copy, one at a time, and see whether
the tests notice.

    .venv/bin/python mutation/run.py                   # every mutation in mutation/catalogue.py
    .venv/bin/python mutation/run.py -k optim          # those whose id contains "optim"
    .venv/bin/python mutation/run.py --list            # what would run, and which are stale

Each mutation names a file, an exact piece of its text, the text to put in its place and the
tests that should fail. The script copies the repository (the files git knows, tracked or
not ignored) to a scratch folder, checks that those tests pass there unmutated, then for
each mutation: applies it, runs ``python -m pytest -x`` on its tests, and restores the file.
A mutation is

- **killed** when the tests fail (or time out, or no longer import),
- **survived** when they pass: a bug the tests cannot see, which wants a test,
- **stale** when its text is no longer in the file (the code moved on: re-target it), and
- **ambiguous** when the text occurs more than once (give it more context).

The score is killed / (killed + survived). The exit status is 1 when a mutation survived
or a baseline failed, so the script can gate a change. ``--json`` writes every result.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IGNORED = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", "runs")


@dataclass
class Result:
    id: str
    status: str  # killed, survived, stale, ambiguous, timeout, error
    seconds: float
    detail: str  # the first failing test, or why it is stale


def load_catalogue(path: Path) -> list[Any]:
    """The ``MUTATIONS`` list of a catalogue module, with ids checked to be unique."""
    spec = importlib.util.spec_from_file_location("mutation_catalogue", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutations = list(module.MUTATIONS)
    seen: set[str] = set()
    for m in mutations:
        if m.id in seen:
            raise SystemExit(f"{path}: mutation id {m.id!r} is used twice")
        if m.old == m.new:
            raise SystemExit(f"{path}: mutation {m.id!r} changes nothing")
        seen.add(m.id)
    return mutations


def copy_repository(repo: Path, scratch: Path) -> Path:
    """Copy ``repo`` to ``scratch/<name>`` and mirror its ``../shared`` beside it (tests read
    the real data through that path). Returns the copy's root."""
    target = scratch / repo.name
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.split("\0")):
            source = repo / name
            if source.is_file():
                destination = target / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
    else:  # not a git checkout
        shutil.copytree(repo, target, ignore=IGNORED)
    shared = repo.parent / "shared"
    if shared.is_dir():
        (scratch / "shared").symlink_to(shared, target_is_directory=True)
    return target


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + os.pathsep + env.get("PYTHONPATH", "")
    # No bytecode: a mutated module restored within the same second, to the same size, could
    # otherwise be read back from a stale .pyc of the mutant.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("CI", None)  # the skip policy is CI's business; here a skip is just not a kill
    return env


def run_tests(python: str, copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, str]:
    command = [python, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(command, cwd=copy, env=environment(copy), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0]
    return output.strip().splitlines()[-1] if output.strip() else ""


def check_imports_the_copy(python: str, copy: Path) -> None:
    probe = "import autograd_nn, sys; sys.stdout.write(autograd_nn.__file__)"
    found = subprocess.run([python, "-c", probe], cwd=copy, env=environment(copy), capture_output=True, text=True)
    if found.returncode == 0 and not Path(found.stdout).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the scratch copy would test {found.stdout}, not its own autograd_nn: check PYTHONPATH")


def mutate(copy: Path, mutation: Any, python: str, timeout: float) -> Result:
    path = copy / mutation.file
    if not path.is_file():
        return Result(mutation.id, "stale", 0.0, f"{mutation.file} does not exist")
    original = path.read_text(encoding="utf-8")
    count = original.count(mutation.old)
    if count == 0:
        return Result(mutation.id, "stale", 0.0, f"text not found in {mutation.file}")
    if count > 1:
        return Result(mutation.id, "ambiguous", 0.0, f"text found {count} times in {mutation.file}")
    path.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
    start = time.perf_counter()
    try:
        code, output = run_tests(python, copy, tuple(mutation.tests), timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    seconds = time.perf_counter() - start
    if code is None:
        return Result(mutation.id, "timeout", seconds, output)
    if code == 0:
        return Result(mutation.id, "survived", seconds, "")
    if code in (1, 2, 3):  # tests failed, collection broke, or pytest crashed on the mutant
        return Result(mutation.id, "killed", seconds, first_failure(output))
    return Result(mutation.id, "error", seconds, f"pytest exited {code}: {first_failure(output)}")


def summary(results: list[Result]) -> dict[str, Any]:
    counts = {
        s: sum(r.status == s for r in results) for s in ("killed", "timeout", "survived", "stale", "ambiguous", "error")
    }
    decided = counts["killed"] + counts["timeout"] + counts["survived"]
    score = (counts["killed"] + counts["timeout"]) / decided if decided else None
    return {"mutations": len(results), **counts, "score": score}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-k",
        dest="select",
        action="append",
        default=[],
        help="run only mutations whose id contains this text (repeatable)",
    )
    parser.add_argument("--list", action="store_true", help="list the mutations and whether each applies; run nothing")
    parser.add_argument("--catalogue", type=Path, default=HERE / "catalogue.py", help="the module holding MUTATIONS")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the repository to copy (default: this one)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs pytest")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutation's test run")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy (its path is printed)")
    args = parser.parse_args(argv)

    mutations = [m for m in load_catalogue(args.catalogue) if not args.select or any(k in m.id for k in args.select)]
    if args.list:
        for m in mutations:
            path = args.repo / m.file
            count = path.read_text(encoding="utf-8").count(m.old) if path.is_file() else 0
            state = {0: "stale", 1: "applies"}.get(count, "ambiguous")
            print(f"{m.id:<40} {state:<9} {m.file}  →  {' '.join(m.tests)}")
        return 0

    scratch = Path(tempfile.mkdtemp(prefix="autograd-nn-mutation-"))
    try:
        copy = copy_repository(args.repo.resolve(), scratch)
        check_imports_the_copy(args.python, copy)
        print(f"{len(mutations)} mutation(s); scratch copy {copy}", flush=True)
        baseline_failed: set[tuple[str, ...]] = set()
        for tests in dict.fromkeys(tuple(m.tests) for m in mutations):
            code, output = run_tests(args.python, copy, tests, args.timeout)
            if code != 0:
                baseline_failed.add(tests)
                print(f"BASELINE FAILS, its mutations are not run: {' '.join(tests)}: {first_failure(output)}")
        results = []
        for m in mutations:
            if tuple(m.tests) in baseline_failed:
                results.append(Result(m.id, "error", 0.0, "its tests fail without the mutation"))
            else:
                results.append(mutate(copy, m, args.python, args.timeout))
            r = results[-1]
            print(f"{r.status:<9} {r.id:<40} {r.seconds:6.1f} s  {r.detail}", flush=True)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    total = summary(results)
    score = "n/a" if total["score"] is None else f"{100 * total['score']:.1f} %"
    print(
        f"\n{total['mutations']} mutations: {total['killed']} killed, {total['timeout']} timed out (killed), "
        f"{total['survived']} survived, {total['stale']} stale, {total['ambiguous']} ambiguous, "
        f"{total['error']} errors; score {score}"
    )
    for r in results:
        if r.status == "survived":
            print(f"  survived: {r.id}")
    if args.json:
        args.json.write_text(json.dumps({"summary": total, "results": [asdict(r) for r in results]}, indent=1))
    return 1 if total["survived"] or total["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
