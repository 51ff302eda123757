"""Collapsing long runs of ops into one node each, so a deep graph stays readable.

This module owns which ops are collapsed and how a collapsed run is described: a run
is ≥ ``MIN_CHAIN`` ops, each the only consumer of the one before (nodes inside a layer
cluster and the root are never folded in); it is titled by its repeating pattern of op
names, counts the leaves used only inside it, and is wired to the tensors it reads from
outside. Colouring a run by its δ stays with the drawing (:mod:`._draw`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..graph import Node
from ._format import escape
from ._walk import GraphIndex

MIN_CHAIN = 4


def find_chains(
    index: GraphIndex, max_nodes: int | None, kept: set[int]
) -> tuple[dict[int, int], list[list[Node]]]:
    """Runs of ≥ MIN_CHAIN ops, each the only consumer of the one before, when the graph
    has more than ``max_nodes`` ops (none when ``max_nodes`` is None).

    ``kept`` holds the ids of nodes that must be drawn on their own (those in a layer
    cluster); the root is always kept. Returns ``({id(node): chain number}, chains)``,
    each chain in the graph's topological order.
    """
    if max_nodes is None or len(index.nodes) <= max_nodes:
        return {}, []
    protected = kept | {id(index.root_node)}
    run_of: dict[int, int] = {}
    runs: list[list[Node]] = []
    for node in index.nodes:
        node_parents = [p for p in index.parents(node) if type(p) is Node]
        previous = node_parents[0] if len(node_parents) == 1 else None
        if (
            previous is not None
            and id(node) not in protected
            and len(index.consumers.get(id(previous), ())) == 1
            and id(previous) in run_of
        ):
            run = run_of[id(previous)]
            runs[run].append(node)
            run_of[id(node)] = run
        elif id(node) not in protected:
            run_of[id(node)] = len(runs)
            runs.append([node])
    chains = [run for run in runs if len(run) >= MIN_CHAIN]
    chain_of = {id(n): k for k, run in enumerate(chains) for n in run}
    return chain_of, chains


def chain_title(run: Sequence[Node]) -> str:
    """The run's shortest repeating pattern of op names: ``<b>(Tanh → Add) × 3</b> + 1``."""
    names = [n.name for n in run]
    period = next(
        p for p in range(1, len(names) + 1) if all(names[i] == names[i + p] for i in range(len(names) - p))
    )
    pattern = " → ".join(names[:period])
    repeats, extra = divmod(len(names), period)
    return f"<b>({escape(pattern)}) × {repeats}</b>" + (f" + {extra}" if extra else "")


def inner_leaf_count(run: Sequence[Node], index: GraphIndex) -> int:
    """How many distinct leaves the ops of the run read."""
    return len({id(p) for n in run for p in index.parents(n) if p is not None and type(p) is not Node})


def chain_inputs(run: Sequence[Node], index: GraphIndex) -> list[Any]:
    """What the run reads from outside itself, each once, in order: the nodes and leaves
    that get an edge into the chain's node. A leaf used only inside the run is left out
    (it is counted in the label, not drawn)."""
    inside = {id(n) for n in run}
    seen: set[int] = set()
    inputs: list[Any] = []
    for node in run:
        for parent in index.parents(node):
            if parent is None or id(parent) in inside or id(parent) in seen:
                continue
            seen.add(id(parent))
            if type(parent) is not Node:
                users = index.consumers.get(id(parent), [])
                if all(id(n) in inside for n, _ in users):
                    continue
            inputs.append(parent)
    return inputs
