"""What the CLI's commands share: the one-line error, printing, option parsers that
validate, JSON that is always valid, and a window in which Ctrl-C waits."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_text

DEFAULT_OUT = Path("runs") / "bike-sharing"
MAX_HIDDEN = 100_000  # 56 × 10⁵ float64 weights: 45 MB; more is a typo, not a model
MAX_EPOCHS = 1_000_000
MAX_BATCH = 1_000_000
MAX_SEED = 2**32 - 1


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def say(message: str) -> None:
    print(message, flush=True)


def shown(value: Any, limit: int = 200) -> str:
    """``value`` as it may be printed when it comes from a file: strings quoted with their
    control characters escaped, anything cut at ``limit`` characters."""
    text = str(value) if isinstance(value, (str, Path)) else repr(value)
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return repr(cut) if isinstance(value, (str, Path)) else cut


# ---------------------------------------------------------------- option types
def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def positive_float(text: str) -> float:
    """An argparse ``type`` accepting finite numbers > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def unit_fraction(text: str) -> float:
    """An argparse ``type`` accepting numbers in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


# ----------------------------------------------------------------------- output
def finite_json(value: Any) -> str:
    """``value`` as indented JSON in which every NaN or infinity is ``null`` (JSON has
    neither, and ``json.dumps`` would write bare ``NaN``); walked without recursion."""
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, np.generic):
            item = container[key] = item.item()
        if isinstance(item, float) and not math.isfinite(item):
            container[key] = None
        elif isinstance(item, dict):
            container[key] = copy = dict(item)
            stack.extend((copy, k) for k in copy)
        elif isinstance(item, (list, tuple)):
            container[key] = copy = list(item)
            stack.extend((copy, i) for i in range(len(copy)))
    return json.dumps(root[0], indent=2, allow_nan=False) + "\n"


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, text)


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block is done (then raise KeyboardInterrupt), so files that
    belong together are written together. Only the main thread receives signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
