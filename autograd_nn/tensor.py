"""``Tensor``: an ndarray that remembers how it was made.

The class holds the data and the autograd state; its op methods, operators, in-place
forms and the ufunc table are generated from the op registry (``_surface``), recording
goes through ``_record``, and ``backward`` through ``autograd``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _tracing, autograd, ops, versions  # noqa: F401 - importing ops declares every op before the class is built
from ._device import CPU
from ._surface import with_registered_members
from .graph import Node, RemovableHandle, add_hook

_new = object.__new__
_ALLOWED_KINDS = "biuf"  # booleans, integers, floating point


class Size(int):
    """``Tensor.size``: the number of elements (numpy's ``size``, an int), callable as
    PyTorch's ``size(dim=None)``, which gives the shape or the length of one axis."""

    shape: tuple[int, ...]

    def __new__(cls, count: int, shape: tuple[int, ...]) -> Size:
        size = super().__new__(cls, count)
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        ndim = len(self.shape)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
            raise IndexError(f"size: dim {dim!r} is out of range for a tensor of shape {self.shape}")
        return self.shape[dim]


@with_registered_members
class Tensor:
    """An n-dimensional array that records the operations applied to it.

    ``Tensor(data)`` wraps ``data`` without copying when it is already an ndarray
    (``autograd_nn.tensor`` always copies). Lists and scalars become arrays with
    numpy's default dtypes (Python floats → float64). Tensors hold booleans, integers
    or floating-point numbers; only floating-point tensors can require gradients.

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

    # Slots for what every tensor has; the rarely set ones default to the class's None and
    # go to a per-tensor dict only when set, so the recorder writes four fields per output.
    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "__dict__", "__weakref__")
    name: str | None = None
    _hooks: dict[int, Any] | None = None  # hooks on a leaf

    __autograd_tensor__: type  # what the recorder knows a tensor by: the class outputs are made of (below)
    # ndarray ⊕ Tensor must reach Tensor's operators, not build an object array.
    __array_priority__ = 1000.0
    _ufunc_table: dict[np.ufunc, Callable[..., Any]]
    _function_table: dict[Callable[..., Any], Callable[..., Any]]

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        if getattr(type(data), "__autograd_tensor__", False):
            data = data.data
        if data is None or isinstance(data, (str, bytes)):
            raise TypeError(f"Tensor: cannot make a tensor from a {type(data).__name__}; give numbers or an array")
        array = _tracing.as_array(data, dtype)
        if array.dtype.kind not in _ALLOWED_KINDS:
            raise TypeError(
                f"Tensor: cannot hold {array.dtype} data (made from a {type(data).__name__}); tensors hold "
                "booleans, integers and floating-point numbers"
            )
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype "
                f"{array.dtype}; convert first, e.g. tensor(data, dtype=np.float64)"
            )
        self.data = array
        self._grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn: Node | None = None
        if name is not None:
            self.name = name

    @staticmethod
    def _wrap(data: np.ndarray, grad_fn: Node | None = None) -> Tensor:
        """The fast constructor the recorder uses: no checks, no conversion."""
        t = _new(Tensor)
        t.data = data
        t._grad = None
        t.requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def grad(self) -> Tensor | None:
        """∂C/∂self, summed into it by ``backward()`` (for a leaf that requires grad, or after
        ``retain_grad()``); None until then, and after ``zero_grad()``."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is None:  # cleared inside a step being compiled: its replays clear it too
            _tracing.note_grad(self, read=False, cleared=True)
        self._grad = value

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's dimensions, as ``ndarray.shape``."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> Size:
        """The number of elements, as ``ndarray.size``; called, PyTorch's ``size()``:
        ``t.size == 6``, ``t.size() == (2, 3)``, ``t.size(1) == 3``."""
        return Size(self.data.size, self.data.shape)

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``)."""
        return self.data.size

    nelement = numel

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of ``data``."""
        return self.data.dtype

    @property
    def itemsize(self) -> int:
        """Bytes per element, as ``ndarray.itemsize`` (PyTorch's ``itemsize`` and ``element_size()``)."""
        return self.data.itemsize

    def element_size(self) -> int:
        """Bytes per element (PyTorch's name for ``itemsize``)."""
        return self.data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of the elements, ``size * itemsize``, as ``ndarray.nbytes`` and PyTorch's ``nbytes``."""
        return self.data.nbytes

    @property
    def strides(self) -> tuple[int, ...]:
        """The step in **bytes** along each axis, as numpy's ``ndarray.strides`` (``stride()``
        counts elements)."""
        return self.data.strides

    def stride(self, dim: int | None = None) -> Any:
        """PyTorch's strides: the step in **elements** along each axis (numpy's ``strides`` are
        in bytes, ``strides[d] == stride(d) * itemsize``), or along axis ``dim`` alone."""
        steps = tuple(step // self.data.itemsize for step in self.data.strides)
        if dim is None:
            return steps
        ndim = self.data.ndim
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
            raise IndexError(f"stride: dim {dim!r} is out of range for a tensor of shape {self.shape}")
        return steps[dim]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """True if the elements lie in row-major (C) order without gaps, as numpy's
        ``flags.c_contiguous``; ``contiguous()`` makes such a copy when it is not."""
        if memory_format is not None and str(memory_format) != "torch.contiguous_format":
            raise ValueError(f"is_contiguous: only the row-major (C) layout is known here, got {memory_format!r}")
        return bool(self.data.flags.c_contiguous)

    @property
    def device(self) -> str:
        """The device the data lives on, always the CPU (``'cpu'``, a ``str`` with
        ``torch.device``'s ``type`` and ``index``, as ``device=`` arguments take it)."""
        return CPU

    def cpu(self) -> Tensor:
        """This tensor itself: it is already on the CPU (PyTorch's ``cpu()``)."""
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs, parameters, constants)."""
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was written in place (PyTorch's ``_version``)."""
        return versions.version_of(self.data)

    def _increment_version(self) -> None:
        """Record a write into ``data`` made outside the tensor API (see ``autograd_nn.increment_version``)."""
        versions.note_write(self.data)  # as autograd.increment_version, one call nearer

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
        """A new leaf sharing this tensor's data (and so its version counter), cut from the graph."""
        return Tensor._wrap(self.data)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place: it becomes a leaf that does not require
        grad, keeping its data (PyTorch's ``detach_``). A view (a reshape, a transpose, a basic
        index of another tensor) is refused, as in PyTorch: use ``detach()``."""
        if self.data.base is not None and versions.is_shared(versions.root_of(self.data)):  # a view op's output
            raise RuntimeError(
                f"detach_: this tensor (shape {self.shape}) is a view of another tensor's memory, and a view cannot "
                "be detached in place (as in PyTorch); use detach(), which returns a new leaf"
            )
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf; returns self."""
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: only leaf tensors can stop requiring grad; use detach()")
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(
                f"requires_grad_: only floating-point tensors can require gradients, got dtype {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.exp(t)`` and ``ndarray + t`` dispatch to the registered op of that ufunc."""
        op = self._ufunc_table.get(ufunc)
        if op is None or method != "__call__" or kwargs:
            what = f"numpy's {ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            if kwargs:
                what += f" with {', '.join(sorted(kwargs))}="
            raise TypeError(
                f"{what} has no autograd_nn op, so it cannot record a gradient; use the Tensor's own "
                f"methods, or apply it to t.data (a plain array, not differentiable)"
            )
        return op(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """``np.sum(t)``, ``np.concatenate([t, u])``: numpy functions that have an op run it."""
        op = self._function_table.get(func)
        if op is None:
            where = "numpy.linalg" if func is getattr(np.linalg, func.__name__, None) else "numpy"
            raise TypeError(
                f"{where}.{func.__name__} has no autograd_nn op, so it cannot take tensors; use "
                f"autograd_nn.{func.__name__} if it exists, or call it on t.data (a plain array, not differentiable)"
            )
        return op(*args, **kwargs)

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
    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False, inputs: Any = None
    ) -> None:
        """Accumulate ∂self/∂leaf into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is δ for this tensor (the vector in the vector-Jacobian product);
        it may be omitted only for a one-element tensor. The graph's saved arrays are
        freed afterwards unless ``retain_graph`` (default: ``create_graph``). With
        ``create_graph=True`` the gradients are themselves differentiable. ``inputs`` (a
        tensor or a sequence of them) accumulates into those alone, as in PyTorch: other
        leaves' ``.grad`` stay as they were, and a non-leaf among them gets its ``.grad``
        as if ``retain_grad()`` had been called (see ``autograd_nn.autograd.backward``).
        """
        autograd.backward(self, (gradient,), retain_graph, create_graph, inputs=inputs)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if self.grad_fn is None or self.retains_grad:
            return
        ref = weakref.ref(self)

        def store(grad: Any) -> None:
            tensor = ref()
            if tensor is not None:
                autograd.keep_grad(tensor, grad)

        store._retains_grad = True  # type: ignore[attr-defined]
        store._tensor = ref  # type: ignore[attr-defined]  # (an in-place op moves it to the tensor's new node)
        self.grad_fn.register_hook(store)

    @property
    def retains_grad(self) -> bool:
        """True if ``retain_grad()`` was called on this non-leaf tensor."""
        hooks = self.grad_fn.hooks if self.grad_fn is not None else None
        return bool(hooks) and any(getattr(h, "_retains_grad", False) for h in hooks.values())

    def register_hook(self, hook: Callable[[Any], Any]) -> RemovableHandle:
        """Call ``hook(δ)`` with this tensor's gradient during backward; returns a handle.

        A hook that returns a value replaces the gradient (it must keep its shape and
        dtype). On a leaf the hook sees the leaf's whole gradient before it is added to
        ``.grad``; ``handle.remove()`` takes the hook out again.
        """
        if self.grad_fn is not None:
            return self.grad_fn.register_hook(hook)
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no gradient will reach a hook")
        self._hooks, handle = add_hook(self._hooks, hook)
        return handle


Tensor.__autograd_tensor__ = Tensor  # outputs of ops on a Parameter (a subclass) are plain Tensors


def clear_grad(tensor: Tensor, set_to_none: bool = True) -> None:
    """``zero_grad`` for one tensor, as PyTorch: ``.grad`` to None, or to zeros (in place where
    it can be), telling a compiled step being recorded that the call set it."""
    grad = tensor.grad
    if grad is None:
        return
    if set_to_none:
        tensor.grad = None  # (the setter tells a recording)
        return
    _tracing.note_grad(tensor, read=False)
    if grad.grad_fn is not None or not grad.data.flags.writeable:
        tensor.grad = Tensor(np.zeros_like(tensor.data))
    else:
        if _tracing.recording() is not None:
            _tracing.adopt((grad,))  # zeroed in place: a replay zeroes it too
        grad.data[...] = 0
        grad._increment_version()
