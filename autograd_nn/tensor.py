"""``Tensor``: an ndarray that remembers how it was made.

This is the one module that records graph nodes (``_record``), and the home of the
Tensor API: numpy-style operators and methods, and PyTorch-style autograd
(``backward``, ``grad``, ``retain_grad``, ``detach``).
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from . import _xp, function
from ._shapes import normalize_axes
from .engine import run_backward
from .function import Function, Node, _GradMode, _NullContext
from .ops import (
    Abs,
    Add,
    BroadcastTo,
    Cast,
    Clip,
    Concatenate,
    Div,
    Exp,
    GetItem,
    LeakyRelu,
    Log,
    LogSoftmax,
    Matmul,
    Max,
    Maximum,
    Mean,
    Min,
    Minimum,
    Mul,
    Neg,
    Pow,
    Relu,
    Reshape,
    Sigmoid,
    Softmax,
    Softplus,
    Sqrt,
    Sub,
    Sum,
    Tanh,
    Transpose,
    Where,
)  # fmt: skip

_NULL_CTX = _NullContext()
_node_numbers = itertools.count()


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    ``Tensor(data)`` wraps ``data`` without copying when it is already an ndarray
    (``autograd_nn.tensor`` always copies). Lists and scalars become arrays with
    numpy's default dtypes (Python floats → float64). Only floating-point tensors
    can require gradients.

    >>> import autograd_nn as ag
    >>> W = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> a = ag.tensor([1.0, -1.0])
    >>> z = W @ a
    >>> z
    Tensor([-1., -1.], grad_fn=<Matmul>)
    >>> z.sum().backward()
    >>> W.grad
    Tensor([[ 1., -1.],
            [ 1., -1.]])
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "name", "__weakref__")

    # ndarray ⊕ Tensor must reach Tensor's operators, not build an object array.
    __array_priority__ = 1000.0

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        array = np.asarray(data, dtype=dtype)
        if requires_grad and not np.issubdtype(array.dtype, np.floating):
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype "
                f"{array.dtype}; convert first, e.g. tensor(data, dtype=np.float64)"
            )
        self.data = array
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn: Node | None = None
        self.name = name

    @classmethod
    def _wrap(cls, data: np.ndarray, grad_fn: Node | None = None) -> Tensor:
        """The fast constructor the recorder uses: no checks, no conversion."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        t.name = None
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's dimensions, as ``ndarray.shape``."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of ``data``."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs, parameters, constants)."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed), as ``ndarray.T``."""
        return _unary(Transpose, self)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists, as ``ndarray.tolist``."""
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf; returns self."""
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: only leaf tensors can stop requiring grad; use detach()")
        if requires_grad and not np.issubdtype(self.dtype, np.floating):
            raise TypeError(
                f"requires_grad_: only floating-point tensors can require gradients, got dtype {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = []
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    # Tensors hash by identity (as in PyTorch) so they can key dicts and sets.
    __hash__ = object.__hash__

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate ∂self/∂leaf into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is δ for this tensor (the vector in the vector-Jacobian product);
        it may be omitted only for a one-element tensor. The graph's saved arrays are
        freed afterwards unless ``retain_graph`` (default: ``create_graph``). With
        ``create_graph=True`` the gradients are themselves differentiable.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad: it was not computed from "
                "any tensor with requires_grad=True (or it was computed under no_grad)"
            )
        seed = _seed_gradient(self, gradient, create_graph, "backward")
        if retain_graph is None:
            retain_graph = create_graph
        leaf_grads, _ = run_backward(
            [_edge(self)],
            [seed],
            retain_graph=retain_graph,
            create_graph=create_graph,
            differentiable_ctx=_DifferentiableContext,
        )
        owned: set[int] = {id(seed)}
        for leaf, grad in leaf_grads.values():
            _accumulate(leaf, grad, create_graph, owned)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if self.grad_fn is None or getattr(self.grad_fn, "_retains_grad", False):
            return
        ref = weakref.ref(self)

        def store(grad: Any) -> None:
            tensor = ref()
            if tensor is not None:
                value = grad if isinstance(grad, Tensor) else Tensor._wrap(np.array(grad))
                tensor.grad = value if tensor.grad is None else tensor.grad + value

        self.grad_fn._retains_grad = True
        self.grad_fn.register_hook(store)

    @property
    def retains_grad(self) -> bool:
        """True if ``retain_grad()`` was called on this non-leaf tensor."""
        return self.grad_fn is not None and getattr(self.grad_fn, "_retains_grad", False)

    def register_hook(self, hook: Callable[[Any], Any]) -> None:
        """Call ``hook(δ)`` with this non-leaf tensor's gradient during backward."""
        if self.grad_fn is None:
            raise RuntimeError("register_hook: hooks are supported on non-leaf tensors only")
        self.grad_fn.register_hook(hook)

    # --------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        return _binary(Add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(Add, other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(Sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(Sub, other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(Mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(Mul, other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(Div, self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(Div, other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _binary(Pow, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _binary(Pow, other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _binary(Matmul, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _binary(Matmul, other, self)

    def __neg__(self) -> Tensor:
        return _unary(Neg, self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _unary(Abs, self)

    # Comparisons are not differentiable: they return plain boolean ndarrays.
    def __lt__(self, other: Any) -> np.ndarray:
        return self.data < _array(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self.data <= _array(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self.data > _array(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self.data >= _array(other)

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self.data == _array(other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self.data != _array(other)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Let numpy ufuncs (``np.exp(t)``, ``array + t``) dispatch to recorded ops."""
        op = _UFUNC_OPS.get(ufunc)
        if method != "__call__" or kwargs or op is None:
            return NotImplemented
        return op(*inputs)

    # ------------------------------------------------------------ elementwise
    def abs(self) -> Tensor:
        """``|x|``, elementwise; the gradient at 0 is 0."""
        return _unary(Abs, self)

    def exp(self) -> Tensor:
        """eˣ, elementwise."""
        return _unary(Exp, self)

    def log(self) -> Tensor:
        """Natural logarithm, elementwise."""
        return _unary(Log, self)

    def sqrt(self) -> Tensor:
        """Square root, elementwise."""
        return _unary(Sqrt, self)

    def clip(self, a_min: Any = None, a_max: Any = None) -> Tensor:
        """Limit values to [a_min, a_max] (either may be None), as ``ndarray.clip``."""
        if a_min is None and a_max is None:
            raise ValueError("clip: at least one of a_min and a_max must be given")
        return Clip.apply(self, a_min=_array(a_min), a_max=_array(a_max))

    def sigmoid(self) -> Tensor:
        """a = σ(z) = 1 / (1 + e⁻ᶻ), elementwise;  σ'(z) = a (1 − a)."""
        return _unary(Sigmoid, self)

    def relu(self) -> Tensor:
        """a = max(z, 0), elementwise; the gradient at 0 is 0."""
        return _unary(Relu, self)

    def tanh(self) -> Tensor:
        """a = tanh z, elementwise;  tanh'(z) = 1 − a²."""
        return _unary(Tanh, self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """a = z for z > 0, else negative_slope · z."""
        return LeakyRelu.apply(self, negative_slope=negative_slope)

    def softplus(self) -> Tensor:
        """a = ln(1 + eᶻ), computed without overflow;  softplus'(z) = σ(z)."""
        return _unary(Softplus, self)

    def softmax(self, axis: int = -1) -> Tensor:
        """eᶻ / Σ eᶻ along ``axis``; stable for any finite logits."""
        return Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """z − ln Σ eᶻ along ``axis``; stable for any finite logits."""
        return LogSoftmax.apply(self, axis=axis)

    def astype(self, dtype: Any) -> Tensor:
        """A copy cast to ``dtype``; gradients are cast back to this tensor's dtype."""
        if np.dtype(dtype) == self.dtype:
            return self
        return Cast.apply(self, dtype=np.dtype(dtype))

    def dot(self, other: Any) -> Tensor:
        """The matrix product ``self @ other`` (numpy's ``matmul`` semantics)."""
        return _binary(Matmul, self, other)

    # ---------------------------------------------------------------- reductions
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (an int, a tuple, or None for all axes), as ``ndarray.sum``."""
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (an int, a tuple, or None for all axes), as ``ndarray.mean``."""
        return Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The maximum; ties share the gradient evenly."""
        return Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The minimum; ties share the gradient evenly."""
        return Min.apply(self, axis=axis, keepdims=keepdims)

    def var(self, axis: int | tuple[int, ...] | None = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Variance, numpy's definition: mean of squared deviations, ``n − ddof`` divisor."""
        count = math.prod(self.shape[a] for a in normalize_axes(axis, self.ndim, "var"))
        deviation = self - self.mean(axis=axis, keepdims=True)
        # A Python float keeps float32 float32; n − ddof ≤ 0 gives inf/nan, as numpy does.
        scale = 1.0 / (count - ddof) if count > ddof else math.inf
        return (deviation * deviation).sum(axis=axis, keepdims=keepdims) * scale

    def std(self, axis: int | tuple[int, ...] | None = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Standard deviation, the square root of ``var`` (numpy's definition)."""
        return self.var(axis=axis, ddof=ddof, keepdims=keepdims).sqrt()

    def argmax(self, axis: int | None = None) -> np.ndarray:
        """Indices of the maxima along ``axis``, as a plain ndarray (not differentiable)."""
        return self.data.argmax(axis=axis)

    def argmin(self, axis: int | None = None) -> np.ndarray:
        """Indices of the minima along ``axis``, as a plain ndarray (not differentiable)."""
        return self.data.argmin(axis=axis)

    # --------------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        """``reshape(6, 4)`` or ``reshape((4, -1))``, as ``ndarray.reshape``."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        return Reshape.apply(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        """``transpose()``, ``transpose(1, 0, 2)`` or ``transpose((1, 0, 2))``."""
        if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
            axes = axes[0]
        return Transpose.apply(self, axes=tuple(axes) if axes else None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Interchange two axes, as ``ndarray.swapaxes``."""
        order = list(range(self.ndim))
        order[axis1], order[axis2] = order[axis2], order[axis1]
        return Transpose.apply(self, axes=tuple(order))

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Tensor:
        """Remove axes of length one, as ``ndarray.squeeze``."""
        try:
            shape = self.data.squeeze(axis).shape
        except ValueError:
            raise ValueError(
                f"squeeze: cannot select an axis to squeeze out which has size not equal to one (axis={axis}, shape {self.shape})"
            ) from None
        return Reshape.apply(self, shape=shape)

    def expand_dims(self, axis: int | tuple[int, ...]) -> Tensor:
        """Insert axes of length one at ``axis``, as ``np.expand_dims``."""
        return Reshape.apply(self, shape=np.expand_dims(self.data, axis).shape)

    def flatten(self) -> Tensor:
        """All elements in a 1-D tensor, as ``ndarray.flatten``."""
        return Reshape.apply(self, shape=(self.size,))

    def ravel(self) -> Tensor:
        """The same as ``flatten``."""
        return self.flatten()

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Broadcast to ``shape``, as ``np.broadcast_to``; the gradient is summed back."""
        return BroadcastTo.apply(self, shape=tuple(shape))

    def __getitem__(self, index: Any) -> Tensor:
        return GetItem.apply(self, index=_plain_index(index))


# ------------------------------------------------------------------- recording
def _array(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _plain_index(index: Any) -> Any:
    """An index with Tensors and lists replaced by ndarrays (as numpy reads them)."""
    if isinstance(index, tuple):
        return tuple(_plain_index_item(item) for item in index)
    return _plain_index_item(index)


def _plain_index_item(item: Any) -> Any:
    if isinstance(item, Tensor):
        return item.data
    if isinstance(item, list):
        return np.asarray(item)
    return item


def _record(fn: type[Function], inputs: tuple[Any, ...], params: dict[str, Any]) -> Tensor:
    """Run ``fn.forward`` on the inputs' arrays; if any input requires grad (and grad
    mode is on), add a node to the graph and return a tensor that points to it."""
    arrays = []
    parents = []
    recording = False
    for x in inputs:
        if isinstance(x, Tensor):
            arrays.append(x.data)
            if x.requires_grad:
                recording = True
                parents.append(x.grad_fn or x)
                continue
        else:
            arrays.append(_operand(x))
        parents.append(None)
    if not (recording and _GradMode.enabled):
        try:
            return _constant(fn.forward(_NULL_CTX, *arrays, **params))
        except ValueError as err:
            raise _named_error(fn, arrays, err) from None
    node = _new_node(Node)
    node.fn = fn
    node.parents = tuple(parents)
    node.needs_input_grad = tuple([p is not None for p in parents])
    node.saved = ()
    try:
        raw = fn.forward(node, *arrays, **params)
    except ValueError as err:
        raise _named_error(fn, arrays, err) from None
    return _output(node, raw, arrays)


# NOTE: every operator goes through one of these two: _record for one and for two
# inputs without parameters, spelled out. Packing and unpacking *args, and helper
# calls, cost more than the rest of recording a node, and this runs for every op.
def _unary(fn: type[Function], x: Tensor) -> Tensor:
    a = x.data
    if not (x.requires_grad and _GradMode.enabled):
        try:
            return _constant(fn.forward(_NULL_CTX, a))
        except ValueError as err:
            raise _named_error(fn, (a,), err) from None
    node = _new_node(Node)
    node.fn = fn
    node.parents = (x.grad_fn or x,)
    node.needs_input_grad = _NEEDS_ONE
    node.saved = ()
    try:
        raw = fn.forward(node, a)
    except ValueError as err:
        raise _named_error(fn, (a,), err) from None
    data = raw if type(raw) is np.ndarray else np.asarray(raw)
    if node.saved:  # ids only: Node.saved_sources matches them when asked
        node.identities = (id(a), id(raw))
    node.shape = data.shape
    node.dtype = data.dtype
    node.seq = next(_node_numbers)
    out = _new_tensor(Tensor)
    out.data = data
    out.grad = out.name = None
    out.requires_grad = True
    out.grad_fn = node
    return out


def _binary(fn: type[Function], x: Any, y: Any) -> Tensor:
    if isinstance(x, Tensor):
        a = x.data
        edge_x = (x.grad_fn or x) if x.requires_grad else None
    else:
        a = np.asarray(x) if isinstance(x, (list, tuple)) else x
        edge_x = None
    if isinstance(y, Tensor):
        b = y.data
        edge_y = (y.grad_fn or y) if y.requires_grad else None
    else:
        b = np.asarray(y) if isinstance(y, (list, tuple)) else y
        edge_y = None
    if (edge_x is None and edge_y is None) or not _GradMode.enabled:
        try:
            return _constant(fn.forward(_NULL_CTX, a, b))
        except ValueError as err:
            raise _named_error(fn, (a, b), err) from None
    node = _new_node(Node)
    node.fn = fn
    node.parents = (edge_x, edge_y)
    node.needs_input_grad = _NEEDS_TWO[(edge_x is not None) + 2 * (edge_y is not None)]
    node.saved = ()
    try:
        raw = fn.forward(node, a, b)
    except ValueError as err:
        raise _named_error(fn, (a, b), err) from None
    data = raw if type(raw) is np.ndarray else np.asarray(raw)
    if node.saved:
        node.identities = (id(a), id(b), id(raw))
    node.shape = data.shape
    node.dtype = data.dtype
    node.seq = next(_node_numbers)
    out = _new_tensor(Tensor)
    out.data = data
    out.grad = out.name = None
    out.requires_grad = True
    out.grad_fn = node
    return out


def _operand(x: Any) -> Any:
    """A non-Tensor input as forward sees it. Python scalars stay scalars, so numpy's
    weak-scalar promotion keeps float32 float32."""
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def _constant(raw: Any) -> Tensor:
    """The output of an unrecorded op."""
    out = _new_tensor(Tensor)
    out.data = raw if type(raw) is np.ndarray else np.asarray(raw)
    out.grad = out.grad_fn = out.name = None
    out.requires_grad = False
    return out


def _output(node: Node, raw: Any, arrays: Sequence[Any]) -> Tensor:
    """Finish ``node`` once forward returned ``raw``; the tensor it made."""
    data = raw if type(raw) is np.ndarray else np.asarray(raw)
    if node.saved:  # ids only: Node.saved_sources matches them when asked
        node.identities = (*map(id, arrays), id(raw))
    node.shape = data.shape
    node.dtype = data.dtype
    node.seq = next(_node_numbers)
    out = _new_tensor(Tensor)
    out.data = data
    out.grad = out.name = None
    out.requires_grad = True
    out.grad_fn = node
    return out


_new_tensor = _new_node = object.__new__
# Shared needs_input_grad tuples: one allocation (and one object for the cyclic GC
# to count) fewer per recorded op.
_NEEDS_ONE = (True,)
_NEEDS_TWO = ((False, False), (True, False), (False, True), (True, True))
function._record = _record


class _DifferentiableContext:
    """A node's ctx as ``create_graph`` shows it: saved inputs and outputs come back as
    Tensors wired into the graph, and ``xp`` is the Tensor namespace."""

    xp = _xp.tensor_namespace

    def __init__(self, node: Node):
        self._node = node
        saved = node.saved or ()
        self.saved = tuple(_saved_tensor(node, value, source) for value, source in zip(saved, node.saved_sources))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)


def _saved_tensor(node: Node, value: Any, source: int | None) -> Any:
    if source is None:
        return value
    edge = node if source == -1 else node.parents[source]
    if edge is None:
        return value
    if type(edge) is Node:
        return Tensor._wrap(np.asarray(value), edge)
    return edge  # a leaf that requires grad: the saved array is its data


def _edge(t: Tensor) -> Any:
    return t if t.grad_fn is None else t.grad_fn


def _seed_gradient(output: Tensor, gradient: Any, create_graph: bool, op_name: str) -> Any:
    """δ for an output: ones for a one-element output, else the given gradient, checked."""
    if gradient is None:
        if output.size != 1:
            raise RuntimeError(
                f"{op_name}: a gradient can be created implicitly only for a one-element "
                f"output, but this one has shape {output.shape}; pass gradient= of that shape"
            )
        seed: Any = np.ones_like(output.data)
    else:
        seed = gradient.data if isinstance(gradient, Tensor) and not create_graph else gradient
        if np.shape(seed) != output.shape:
            raise ValueError(
                f"{op_name}: gradient has shape {np.shape(seed)} but the output has shape "
                f"{output.shape}; they must match"
            )
        if not isinstance(seed, Tensor):
            seed = np.asarray(seed, dtype=output.dtype)
        elif seed.dtype != output.dtype:
            seed = seed.astype(output.dtype)
    if create_graph and not isinstance(seed, Tensor):
        seed = Tensor._wrap(seed)
    return seed


def _owned_copy(grad: Any, owned: set[int]) -> np.ndarray:
    """``grad`` as an ndarray no other gradient or caller can see: copy views,
    read-only broadcasts, and arrays already handed out in this backward."""
    grad = np.asarray(grad)
    if id(grad) in owned or not grad.flags.owndata or not grad.flags.writeable:
        grad = grad.copy()
    owned.add(id(grad))
    return grad


def _accumulate(leaf: Tensor, grad: Any, create_graph: bool, owned: set[int]) -> None:
    """leaf.grad += δ  (a new differentiable sum under create_graph)."""
    if create_graph:
        if not isinstance(grad, Tensor):
            grad = Tensor._wrap(np.asarray(grad))
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
    elif leaf.grad is None:
        leaf.grad = Tensor._wrap(_owned_copy(grad, owned))
    else:
        leaf.grad.data = leaf.grad.data + np.asarray(grad)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return ∂outputs/∂inputs (weighted by ``grad_outputs``) as a tuple, one per input.

    Unlike ``backward`` this leaves every ``.grad`` untouched. Inputs may be leaves or
    intermediate tensors. With ``create_graph=True`` the results are differentiable,
    which gives second derivatives and Hessian-vector products.

    >>> import autograd_nn as ag
    >>> x = ag.tensor(3.0, requires_grad=True)
    >>> (dy,) = ag.grad(x ** 3, x, create_graph=True)
    >>> (d2y,) = ag.grad(dy, x)
    >>> dy.item(), d2y.item()
    (27.0, 18.0)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(list(outputs) + list(inputs)):
        if not t.requires_grad:
            which = f"output {i}" if i < len(outputs) else f"input {i - len(outputs)}"
            raise RuntimeError(f"grad: {which} does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [_seed_gradient(o, g, create_graph, "grad") for o, g in zip(outputs, grad_outputs)]
    capture = {id(t.grad_fn) for t in inputs if t.grad_fn is not None}
    leaf_grads, captured = run_backward(
        [_edge(o) for o in outputs],
        seeds,
        retain_graph=retain_graph,
        create_graph=create_graph,
        capture=capture,
        differentiable_ctx=_DifferentiableContext,
    )
    owned = {id(s) for s in seeds}
    results: list[Tensor | None] = []
    for i, t in enumerate(inputs):
        if t.grad_fn is None:
            entry = leaf_grads.get(id(t))
            g = None if entry is None else entry[1]
        else:
            g = captured.get(id(t.grad_fn))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} was not used to compute the outputs; pass allow_unused=True to get None for it"
                )
            results.append(None)
        elif isinstance(g, Tensor):
            results.append(g)
        else:
            results.append(Tensor._wrap(_owned_copy(g, owned)))
    return tuple(results)


def as_tensor(value: Any) -> Tensor:
    """``value`` if it is a Tensor, else a constant Tensor wrapping it."""
    return value if isinstance(value, Tensor) else Tensor(value)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf Tensor holding a copy of ``data`` (as ``torch.tensor``).

    >>> import numpy as np, autograd_nn as ag
    >>> ag.tensor([1, 2], dtype=np.float32)
    Tensor([1., 2.], dtype=float32)
    """
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(np.array(data, dtype=dtype), requires_grad=requires_grad)


def concatenate(tensors: Iterable[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis, as ``np.concatenate``."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("concatenate: need at least one tensor")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Iterable[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis, as ``np.stack``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    return concatenate([t.expand_dims(axis) for t in tensors], axis=axis)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elements of ``x`` where ``condition`` holds, else of ``y`` (condition is constant)."""
    return Where.apply(x, y, condition=np.asarray(_array(condition), dtype=bool))


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; at ties each input gets half the gradient."""
    return Maximum.apply(x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; at ties each input gets half the gradient."""
    return Minimum.apply(x, y)


_UFUNC_OPS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: Add.apply,
    np.subtract: Sub.apply,
    np.multiply: Mul.apply,
    np.true_divide: Div.apply,
    np.power: Pow.apply,
    np.matmul: Matmul.apply,
    np.negative: Neg.apply,
    np.absolute: Abs.apply,
    np.exp: Exp.apply,
    np.log: Log.apply,
    np.sqrt: Sqrt.apply,
    np.tanh: Tanh.apply,
    np.maximum: Maximum.apply,
    np.minimum: Minimum.apply,
    np.less: lambda x, y: np.less(_array(x), _array(y)),
    np.less_equal: lambda x, y: np.less_equal(_array(x), _array(y)),
    np.greater: lambda x, y: np.greater(_array(x), _array(y)),
    np.greater_equal: lambda x, y: np.greater_equal(_array(x), _array(y)),
    np.equal: lambda x, y: np.equal(_array(x), _array(y)),
    np.not_equal: lambda x, y: np.not_equal(_array(x), _array(y)),
}


def _named_error(fn: type[Function], arrays: Sequence[Any], err: ValueError) -> ValueError:
    """Re-word numpy's error so it names the op and the shapes involved."""
    name = fn.__name__.lower()
    message = str(err)
    if message.split(" ", 1)[0].endswith(":"):
        return err  # already names its op
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "broadcast" in message:
        return ValueError(f"{name}: shapes {shapes} cannot be broadcast together")
    return ValueError(f"{name}: {message} (input shapes {shapes})")
