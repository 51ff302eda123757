"""Ctrl-C that CPython would drop while it runs one of the library's callbacks.

CPython calls some Python code on its own: the collector's gc callback
(``autograd_nn.collector``), weakref callbacks (``autograd_nn.versions``). A signal that
arrives meanwhile (during a collection, say) runs its handler at the first bytecode of that
code, and what the handler raises there, ``KeyboardInterrupt`` for Ctrl-C, is printed as
"Exception ignored in ..." and dropped: the program goes on as if Ctrl-C had not been
pressed. ``sys.unraisablehook`` sees it; this hook gives such an interrupt back, as a fresh
SIGINT a moment later, which the program's own handler then takes in the program's own code.
Anything else goes to the hook that was installed before.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
from typing import Any

_PACKAGE = __name__.rsplit(".", 1)[0] + "."
_AGAIN_AFTER = 0.001  # seconds: long enough for CPython to be back in the program's code
_previous = sys.unraisablehook


def _ours(callback: Any) -> bool:
    """Whether ``callback`` (a function, or an object CPython called) belongs to the library."""
    module = getattr(callback, "__module__", None) or type(callback).__module__
    return isinstance(module, str) and module.startswith(_PACKAGE)


def give_back_interrupts(unraisable: Any) -> None:
    """``sys.unraisablehook``: a KeyboardInterrupt dropped in one of our callbacks becomes SIGINT again."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and _ours(unraisable.object):
        # Tripping SIGINT here would run its handler in this hook, which CPython also calls on
        # its own (and drops what it raises): from another thread, a moment later, it reaches
        # the program. Should it land in such a callback again, it comes back here again.
        again = threading.Timer(_AGAIN_AFTER, _thread.interrupt_main, (signal.SIGINT,))
        again.daemon = True
        again.start()
        return
    _previous(unraisable)


def install() -> None:
    """Put the hook in front of the one installed now (once)."""
    global _previous
    if sys.unraisablehook is not give_back_interrupts:
        _previous = sys.unraisablehook
        sys.unraisablehook = give_back_interrupts
