"""``export``: trace a model's forward pass and write it as an ONNX model.

The steps: record ``model(*args)`` (``_trace``) as given, with the dynamic axes 2n + 1
long, and once per value probe (``_probes``: the inputs negated, zeroed, scaled, random);
give every input, parameter and constant its ONNX value (``_call.Session``: a constant
must be the same in every probe); convert the recorded ops in order, each by its converter
(``_registry.CONVERTERS``) or, for a fused op without one, through the primitives of its
declared ``decomposition``; then name the outputs and build the model.
"""

from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes
from ..graph import Node
from ..nn import Module
from ..registry import spec_of_function
from ..tensor import Tensor
from ._call import OpCall, Session
from ._graph import OnnxGraph, Signature
from ._probes import PROBES, WITHIN, changes, probe_inputs
from ._registry import CONVERTERS
from ._trace import ExportError, Pairing, Recording, pair, record, resized

#: The ONNX opset ``export`` writes when ``opset_version`` is not given: 18, PyTorch's default
#: (LayerNormalization needs 17, and every Reduce* op with its axes as an input 18).
DEFAULT_OPSET = 18
MIN_OPSET = 13  # Softmax over one axis, Squeeze/Unsqueeze/Slice with inputs


class UnsupportedOperatorError(ExportError):
    """The model uses an op that has no ONNX converter and no decomposition."""


def export(
    model: Any,
    args: Any,
    f: str | os.PathLike[str] | io.IOBase | None = None,
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: Mapping[str, Any] | None = None,
    opset_version: int | None = None,
) -> Any:
    """Trace ``model(*args)`` and write it to ``f`` as ONNX (PyTorch's ``torch.onnx.export``).

    ``args`` is a tuple of the model's inputs (a single Tensor or array stands for
    ``(args,)``); the model runs once per recording, in eval mode (restored after).
    Parameters and buffers become initialisers named by their ``state_dict`` keys. Inputs
    are named ``input_names`` (default ``input``, or ``input_0``, ``input_1``, ...),
    outputs ``output_names`` (default ``output``, ...). ``dynamic_axes`` maps an input or
    output name to the axes whose size may change: ``{"input": {0: "batch"}}`` or
    ``{"input": [0]}``. ``opset_version`` defaults to 18 (13 at the least). ``f`` is a
    path (written atomically) or a binary file object; with ``f=None`` nothing is written.
    Returns the ``onnx.ModelProto``, checked by ``onnx.checker.check_model``.

    Besides, the model runs once on each value probe (the inputs negated, set to zero,
    scaled by 10, and replaced by seeded random values; integer inputs zeroed or shuffled),
    and every constant written into the graph must be the same in each of them.

    Raises ``UnsupportedOperatorError`` naming every op that has no converter, and
    ``ExportError`` for what ONNX cannot express (a branch on the input's values, a
    constant computed from the input outside the graph), naming the op.
    """
    import onnx  # the optional extra: pip install autograd-nn[onnx]

    opset = _opset(opset_version)
    inputs = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    in_names = _names(input_names, len(inputs), "input")
    axes = _dynamic_axes(dynamic_axes)
    in_axes = [sorted(axes.get(name, {})) for name in in_names]
    for name, found, value in zip(in_names, in_axes, inputs):
        rank = np.ndim(value.data if isinstance(value, Tensor) else value)
        if any(not -rank <= a < rank for a in found):
            raise ValueError(f"export: dynamic_axes[{name!r}] names axes {found}, but {name} has {rank} axes")
    with _eval_mode(model):
        first = record(model, inputs)
        try:
            second = record(model, [resized(v, a) for v, a in zip(inputs, in_axes)])
        except (ValueError, IndexError, TypeError) as error:
            changed = "the dynamic axes grown" if any(in_axes) else "the rows of the inputs rolled by one"
            raise ExportError(
                f"export: the model fails on the example inputs with {changed} (to see what depends on them): "
                f"{error}. Are all the sizes named in dynamic_axes free to change?"
            ) from error
        probes = _record_probes(model, inputs)
    out_names = _names(output_names, len(first.outputs), "output")
    unknown = sorted(set(axes) - set(in_names) - set(out_names))
    if unknown:
        raise ValueError(
            f"export: dynamic_axes names {unknown}, which are not among the inputs {in_names} or outputs {out_names}"
        )
    _refuse_unsupported(first)
    graph = OnnxGraph(opset)
    lined_up = [pair(first, rec, "the model", name, same_shapes=True) for name, rec in probes]
    session = Session(graph, pair(first, second, "the model"), _named_arrays(model), lined_up)
    signatures_in = _bind_inputs(session, first, second, in_names, axes)
    _convert(session, first)
    signatures_out = _bind_outputs(session, first, second, out_names, axes)
    proto = graph.to_model(signatures_in, signatures_out, _version())
    onnx.checker.check_model(proto, full_check=True)
    if f is not None:
        data = proto.SerializeToString()
        if isinstance(f, (str, os.PathLike)):
            atomic_write_bytes(Path(f), data)
        else:
            f.write(data)
    return proto


_REJECTED = (ValueError, IndexError, TypeError, ArithmeticError)  # how a model refuses an input


def _record_probes(model: Any, inputs: Sequence[Any]) -> list[tuple[str, Recording]]:
    """The model recorded on each value probe (named) it accepts: what every constant of the
    graph must equal (see ``_probes``)."""
    recordings, rejected = [], []
    with np.errstate(all="ignore"):  # a probe may overflow or divide by zero: only its constants count
        for probes in (PROBES, (WITHIN,)):
            for name, values in probe_inputs(inputs, probes):
                if not changes(values, inputs):
                    continue  # (an example of zeros negated, a value of its own range): nothing to learn
                try:
                    recordings.append((name, record(model, values)))
                except _REJECTED as error:
                    rejected.append(f"{name}: {error}")
            if not rejected:
                break  # WITHIN is recorded when a probe was rejected only
    if rejected and not recordings:
        raise ExportError(
            "export: the model rejects the example inputs with any other values of the same shapes, on which "
            "export records it to find the constants it computes from the input's values outside the graph ("
            + "; ".join(rejected)
            + "). A model that accepts no other values cannot be checked so, and is not exported"
        )
    return recordings


def _opset(version: int | None) -> int:
    import onnx

    newest = onnx.defs.onnx_opset_version()
    version = DEFAULT_OPSET if version is None else version
    if isinstance(version, bool) or not isinstance(version, int) or not MIN_OPSET <= version <= newest:
        raise ValueError(f"export: opset_version must be an int from {MIN_OPSET} to {newest}, got {version!r}")
    return version


def _names(names: Sequence[str] | None, count: int, kind: str) -> list[str]:
    if names is None:
        return [kind] if count == 1 else [f"{kind}_{k}" for k in range(count)]
    names = list(names)
    if len(names) != count or not all(isinstance(n, str) and n for n in names) or len(set(names)) != count:
        raise ValueError(
            f"export: {kind}_names must be {count} distinct non-empty strings (one per {kind}), got {names}"
        )
    return names


def _dynamic_axes(dynamic_axes: Mapping[str, Any] | None) -> dict[str, dict[int, str]]:
    """``{name: {axis: dim name}}`` from PyTorch's two spellings (a dict, or a list of axes)."""
    found: dict[str, dict[int, str]] = {}
    for name, given in (dynamic_axes or {}).items():
        if isinstance(given, Mapping):
            pairs = list(given.items())
        elif isinstance(given, (list, tuple)):
            pairs = [(a, f"{name}_dynamic_axes_{k + 1}") for k, a in enumerate(given)]
        else:
            raise TypeError(f"export: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list of axes")
        if not all(isinstance(a, int) and not isinstance(a, bool) and isinstance(n, str) for a, n in pairs):
            raise TypeError(f"export: dynamic_axes[{name!r}] must map int axes to str names, got {given!r}")
        found[name] = dict(pairs)
    return found


class _eval_mode:
    """While tracing: eval mode (Dropout off), and every floating-point parameter and buffer
    requiring grad, so that ops on frozen weights and buffers (``pe[:steps]``) are recorded
    too; each module's mode and each tensor's flag are restored after."""

    def __init__(self, model: Any) -> None:
        if not callable(model):
            raise TypeError(f"export: model must be an nn.Module or a function, got {type(model).__name__}")
        is_module = isinstance(model, Module)
        self.modes = [(m, m.training) for m in model.modules()] if is_module else []
        tensors = [*model.parameters(), *model.buffers()] if is_module else []
        self.frozen = [t for t in tensors if not t.requires_grad and t.dtype.kind == "f"]

    def __enter__(self) -> None:
        for module, _ in self.modes:
            module.training = False
        for tensor in self.frozen:
            tensor.requires_grad = True

    def __exit__(self, *exc: object) -> None:
        for module, mode in self.modes:
            module.training = mode
        for tensor in self.frozen:
            tensor.requires_grad = False


def _named_arrays(model: Any) -> dict[int, tuple[str, np.ndarray]]:
    """Parameters and buffers by id of the tensor and of its array: initialisers keep their names."""
    named: dict[int, tuple[str, np.ndarray]] = {}
    if isinstance(model, Module):
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            named.setdefault(id(tensor), (name, tensor.data))
            named.setdefault(id(tensor.data), (name, tensor.data))
    return named


def _refuse_unsupported(recording: Recording) -> None:
    missing: dict[type, None] = {}
    for node in recording.nodes:
        spec = spec_of_function(node.fn)
        if node.fn not in CONVERTERS and (spec is None or spec.decomposition is None):
            missing[node.fn] = None
    if missing:
        listed = ", ".join(f"{fn.__name__} ({fn.__module__}.{fn.__qualname__})" for fn in missing)
        raise UnsupportedOperatorError(
            f"export: no ONNX converter for {listed}. Give each one with @autograd_nn.onnx.register_converter"
            "(TheOp) (see the docs page 'Moving to PyTorch and ONNX Runtime'), or declare decomposition= on it"
        )


def _bind_inputs(
    session: Session, first: Recording, second: Recording, names: list[str], axes: dict
) -> list[Signature]:
    signatures = []
    for name, leaf, twin in zip(names, first.leaves, second.leaves):
        array = np.asarray(leaf.data if isinstance(leaf, Tensor) else leaf)
        session.graph.claim(name)
        session.graph.dtypes[name] = array.dtype
        if isinstance(leaf, Tensor):
            session.values[id(leaf)] = name
        session.known[id(leaf.data if isinstance(leaf, Tensor) else leaf)] = name
        session.inputs.append(array)
        other = np.shape(twin.data if isinstance(twin, Tensor) else twin)
        dims: list[int | str] = []
        for axis, (n1, n2) in enumerate(zip(array.shape, other)):
            symbol = axes.get(name, {}).get(axis, axes.get(name, {}).get(axis - array.ndim))
            dims.append(n1 if symbol is None else symbol)
            if n1 != n2:
                session.sources.setdefault((n1, n2), []).append((name, axis, str(dims[-1])))
                session.symbols.setdefault((n1, n2), str(dims[-1]))
        signatures.append(Signature(name, array.dtype, tuple(dims)))
    return signatures


def _convert(session: Session, recording: Recording) -> None:
    """Convert every node in order; a fused op without a converter is replaced by the
    nodes of its decomposition (recorded on its own inputs), spliced in where it was."""
    pending: deque[Any] = deque(recording.nodes)
    while pending:
        item = pending.popleft()
        if isinstance(item, tuple):  # (fused node, its decomposition's output): done expanding
            node, out = item
            session.values[id(node)] = session.output_value(out)
            continue
        convert = CONVERTERS.get(item.fn)
        if convert is None:
            pending.extendleft(reversed(_expand(session, item)))
            continue
        op = OpCall(session, item)
        name = convert(session.graph, op)
        session.graph.dtypes.setdefault(name, op.dtype)
        session.values[id(item)] = name


def _expand(session: Session, node: Node) -> list[Any]:
    """The recorded nodes of ``node``'s decomposition, run on the values ``node`` received."""
    spec = spec_of_function(node.fn)
    if spec is None or spec.decomposition is None:
        raise UnsupportedOperatorError(f"export: no ONNX converter for {node.name}, and it declares no decomposition")
    op = OpCall(session, node)
    params = dict(node.params)
    first = record(lambda *xs: spec.decomposition(*xs, **params), node.inputs)
    twin = op.partner
    second = record(lambda *xs: spec.decomposition(*xs, **twin.params), twin.inputs) if session.pairing.paired else None
    what = f"the decomposition of {node.name}"
    pairing = pair(first, second, what)
    session.pairing.partner.update(pairing.partner)
    session.keep.append((first, second))
    for probe, probed in zip(session.probes, op.probes):
        _line_up(probe, pair(first, _decomposed(spec, probed), what, probe.name, same_shapes=True))
    for i, leaf in enumerate(first.leaves):
        if isinstance(leaf, Tensor):
            session.values[id(leaf)] = op.input(i)
        elif isinstance(leaf, np.ndarray):
            session.known[id(leaf)] = op.input(i)
    if len(first.outputs) != 1:
        raise ExportError(f"export: the decomposition of {node.name} must return one tensor")
    return [*first.nodes, (node, first.outputs[0])]


def _decomposed(spec: Any, node: Node) -> Recording:
    """The decomposition of the fused op ``node`` (of a probe's recording), recorded on its inputs."""
    with np.errstate(all="ignore"):
        return record(lambda *xs: spec.decomposition(*xs, **node.params), node.inputs)


def _line_up(probe: Pairing, part: Pairing) -> None:
    """Add ``part`` (a decomposition, recorded in both) to a probe's pairing."""
    probe.partner.update(part.partner)
    probe.leaves.update(part.leaves)
    probe.keep.append(part.second)


def _bind_outputs(
    session: Session, first: Recording, second: Recording, names: list[str], axes: dict
) -> list[Signature]:
    graph = session.graph
    signatures = []
    renamed: dict[str, str] = {}  # a node's output that became a graph output -> that output's name
    for name, out, twin in zip(names, first.outputs, second.outputs):
        value = session.output_value(out)
        value = renamed.get(value, value)
        dtype = graph.dtypes.get(value) or np.asarray(out.data if isinstance(out, Tensor) else out).dtype
        graph.claim(name)
        if graph.produced(value) and value not in renamed.values():
            graph.rename_output(value, name)
            renamed[value] = name
        else:  # an input, a parameter, a constant, or another output's value: copied
            graph.nodes.append(("Identity", [value], [name], {}))
        shape = np.shape(out.data if isinstance(out, Tensor) else out)
        other = np.shape(twin.data if isinstance(twin, Tensor) else twin)
        given = axes.get(name, {})
        dims: list[int | str] = []
        for axis, (n1, n2) in enumerate(zip(shape, other)):
            symbol = given.get(axis, given.get(axis - len(shape)))
            if symbol is None and n1 != n2:  # a size that follows an input's dynamic axis takes its name
                symbol = session.symbols.get((n1, n2), f"{name}_dim_{axis}")
            dims.append(n1 if symbol is None else symbol)
        signatures.append(Signature(name, np.dtype(dtype), tuple(dims)))
    return signatures


def _version() -> str:
    try:
        return metadata.version("autograd-nn")
    except metadata.PackageNotFoundError:
        return "unknown"
