"""``CompileError``: a function ``compile`` cannot replay faithfully, and why."""

from __future__ import annotations

from typing import Any


class CompileError(RuntimeError):
    """A call ``compile`` cannot turn into a replay: the message says what was seen, where,
    and what to write instead. The call itself ran eagerly to the end (nothing is lost,
    nothing is replayed on a guess); its result is ``error.result``."""

    result: Any = None

    def _with_result(self, result: Any) -> CompileError:
        self.result = result
        return self


class CompileWarning(UserWarning):
    """A compiled function runs eagerly from now on, and why (see ``compile(fullgraph=True)``)."""


class Miss(Exception):
    """A guard failed: the program does not apply to this call."""


class Diverged(Exception):
    """A value the call branches on differs from the recording's (raised once what the replay changed is put back)."""
