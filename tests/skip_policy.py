"""A pytest plugin: under ``CI=true`` a skipped (or xfailed) test fails the run unless allow-listed.

A parity test that skips because torch did not install, a browser test that skips because
Chromium is missing, a real-data test that skips because the file is absent: each looks
green and proves nothing. Locally skips stay skips (``-ra`` lists them with their reasons);
in CI every skip must be on the allow-list, ``tests/ci_allowed_skips.txt``, one line per
entry::

    <node id glob> | <text the skip reason must contain> | <why this skip is acceptable>

An entry matches a skip when the glob (``fnmatch``) matches the test's node id and the skip
reason contains the text, so an entry allows one known cause, not every skip of that test.
A line without all three fields is an error, not an entry. ``CI_ALLOWED_SKIPS`` names
another file (the policy's own test uses it).

``tests/conftest.py`` registers this module as a plugin; ``-p skip_policy`` loads it too.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_ALLOW_LIST = Path(__file__).with_name("ci_allowed_skips.txt")
PLUGIN_NAME = "autograd-nn-ci-skip-policy"


@dataclass(frozen=True)
class Allowed:
    pattern: str
    reason_contains: str
    why: str

    def matches(self, nodeid: str, reason: str) -> bool:
        return fnmatch.fnmatchcase(nodeid, self.pattern) and self.reason_contains in reason


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def read_allow_list(path: Path) -> list[Allowed]:
    """The entries of ``path``; a malformed line raises ``pytest.UsageError`` naming it."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [f.strip() for f in text.split("|", 2)]
        if len(fields) != 3 or not all(fields):
            raise pytest.UsageError(
                f"{path}:{number}: expected '<node id glob> | <reason text> | <why allowed>', got {line!r}"
            )
        entries.append(Allowed(*fields))
    return entries


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason pytest recorded for a skip or an xfail."""
    if getattr(report, "wasxfail", None) is not None:
        return f"xfail: {report.wasxfail}"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class SkipPolicy:
    """The plugin: records skips as they are reported and fails the session at the end."""

    def __init__(self, config: pytest.Config):
        path = Path(os.environ.get("CI_ALLOWED_SKIPS", DEFAULT_ALLOW_LIST))
        self.source = path
        self.allowed = read_allow_list(path) if path.is_file() else []  # malformed: fails at start
        self.disallowed: list[tuple[str, str]] = []

    def _record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not report.skipped or not in_ci():
            return
        reason = skip_reason(report)
        if not any(entry.matches(report.nodeid, reason) for entry in self.allowed):
            self.disallowed.append((report.nodeid, reason))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)  # a module-level importorskip skips at collection

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.disallowed and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int, config: pytest.Config) -> None:
        if not self.disallowed:
            return
        terminalreporter.section("skips CI does not allow", sep="=", red=True, bold=True)
        for nodeid, reason in self.disallowed:
            terminalreporter.line(f"SKIP NOT ALLOWED {nodeid}: {reason}")
        terminalreporter.line(
            f"{len(self.disallowed)} skip(s) under CI=true are not on the allow-list ({self.source}): "
            "install what the test needs, or add an entry saying why it may skip"
        )


def install(config: pytest.Config) -> None:
    """Register the policy once (from tests/conftest.py, or via ``-p skip_policy``)."""
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(SkipPolicy(config), PLUGIN_NAME)


def pytest_configure(config: pytest.Config) -> None:
    install(config)
