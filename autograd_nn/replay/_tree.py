"""Argument trees: the tuples, lists, dicts and slices numpy calls take, mapped leaf by leaf.

A kernel's arguments nest (an index tuple holding a slice of an array, ``out=(a,)``, a
list of arrays to concatenate), and the recording has to swap every array in them, at
any depth, for what it stands for. ``tree_map`` does that without recursion: containers
are opened onto a stack and rebuilt children first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_OPEN = (tuple, list, dict, slice)


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """``tree`` with every leaf ``x`` replaced by ``fn(x)``; tuples, lists, dicts and slices are
    rebuilt (a namedtuple or any other type is a leaf)."""
    if type(tree) not in _OPEN:
        return fn(tree)
    top = [tree]
    opened: list[tuple[Any, list[Any], list[Any], int]] = []  # (how to rebuild, children, holder, index)
    todo = [(top, 0)]
    while todo:
        holder, index = todo.pop()
        node = holder[index]
        kind = type(node)
        if kind is tuple or kind is list:
            children = list(node)
        elif kind is dict:
            children = list(node.values())
            kind = tuple(node)  # the keys, in order
        elif kind is slice:
            children = [node.start, node.stop, node.step]
        else:
            holder[index] = fn(node)
            continue
        opened.append((kind, children, holder, index))
        todo.extend((children, i) for i in reversed(range(len(children))))  # leftmost first
    for kind, children, holder, index in reversed(opened):  # children were opened after their parents
        if kind is tuple or kind is list:
            holder[index] = kind(children)
        elif kind is slice:
            holder[index] = slice(*children)
        else:
            holder[index] = dict(zip(kind, children))
    return top[0]


def leaves(tree: Any) -> list[Any]:
    """The leaves of ``tree``, in order."""
    found: list[Any] = []
    tree_map(found.append, tree)
    return found
