"""In-place operations: ``x.add_(y)``, ``x += y``, ``x[i] = v``, ``x.zero_()``, …

An in-place op writes its result into the tensor's own memory (every numpy view of it
sees the change) and bumps the tensor's version counter, so a node that saved the old
values refuses to backpropagate through them. When a gradient is needed (the tensor or
an operand requires grad, and grad mode is on) the op is also recorded: it runs out of
place on a private copy of the old values (which is what its node saves), the result is
copied into the tensor, and the tensor's ``grad_fn`` becomes the new node. As in PyTorch,
a leaf that requires grad can be changed in place only under ``no_grad``.

Unlike PyTorch, a recorded in-place write into memory that another tensor shares (a
view, or a tensor that has views) is refused rather than rewriting the other tensor's
history: the result is never silently wrong, and the out-of-place form always works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _tracing, grad_mode, versions
from ._record import array_of, is_tensor, record
from .opspec import OpSpec


def apply_inplace(spec: OpSpec, name: str, target: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
    """Compute ``spec``'s op on ``inputs`` (``inputs[0]`` is ``target``) into ``target``.

    A primitive runs through its recorder; a composite (``square_``, ``masked_fill_``) runs
    as written, its own ops recording themselves on the private copy."""
    fn = spec.function
    others = inputs[1:]
    run = (lambda ins: record(fn, ins, params)) if fn is not None else (lambda ins: spec.apply(*ins, **params))
    mode = grad_mode.current()
    if mode & grad_mode.TRACE:
        _tracing.adopt(inputs)
    recorded = mode & grad_mode.GRAD and (
        target.requires_grad or any(is_tensor(o) and o.requires_grad for o in others)
    )
    if not recorded:
        direct = getattr(fn, "forward_inplace", None) if fn is not None else None
        if direct is not None:
            _write(name, target, lambda: direct(target.data, *[array_of(o) for o in others], **params))
        else:
            result = run((target.detach(), *others))
            _write(name, target, lambda: _copy_into(name, target, np.asanyarray(array_of(result))))
        versions.note_write(target.data)
        return target
    _refuse_unsafe(name, target)
    old = target._wrap(target.data.copy(), target.grad_fn)
    old.requires_grad = target.requires_grad
    result = run((old, *others))
    if result.dtype != target.dtype:
        if not np.can_cast(result.dtype, target.dtype, casting="same_kind"):
            raise TypeError(
                f"{name}: the result has dtype {result.dtype}, which cannot be stored in place in a tensor of "
                f"dtype {target.dtype}"
            )
        result = result.astype(target.dtype)
    _write(name, target, lambda: _copy_into(name, target, result.data))
    versions.note_write(target.data)
    before = target.grad_fn
    target.grad_fn = result.grad_fn
    target.requires_grad = result.requires_grad
    if before is not None and before.hooks and target.grad_fn is not None:
        _carry_retained_grad(before, target)
    return target


def _carry_retained_grad(before: Any, target: Any) -> None:
    """``retain_grad()`` belongs to the tensor (PyTorch): after an in-place op its ``.grad`` is the
    new value's δ, so the hook moves to the tensor's new node. Hooks registered with
    ``register_hook`` stay: they saw the old value, and keep seeing its δ."""
    for key, hook in list(before.hooks.items()):
        if getattr(hook, "_retains_grad", False) and getattr(hook, "_tensor", lambda: None)() is target:
            del before.hooks[key]
            target.grad_fn.register_hook(hook)


def _refuse_unsafe(name: str, target: Any) -> None:
    if target.grad_fn is None and target.requires_grad:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad (shape {target.shape}, dtype {target.dtype}) cannot be "
            "changed in place while operations are recorded: its gradient would describe values it no longer "
            "has. Update it under `with autograd_nn.no_grad():` (as optimizers do), or work on a copy "
            "(y = x * 1)"
        )
    if versions.is_shared(target.data):
        raise RuntimeError(
            f"{name}: this tensor (shape {target.shape}) shares its memory with another tensor (a view made "
            "by reshape, transpose, broadcasting or basic indexing, or the tensor it views); recording an "
            "in-place write would change the other one without its gradient knowing. Use the out-of-place "
            "form (x = x + y), or write before taking views"
        )


def _copy_into(name: str, target: Any, values: np.ndarray) -> None:
    if values.shape != target.shape:
        raise ValueError(
            f"{name}: the result has shape {values.shape} but the tensor changed in place has shape "
            f"{target.shape}; an in-place op cannot change a tensor's shape"
        )
    np.copyto(target.data, values, casting="same_kind")


def _write(name: str, target: Any, write: Any) -> None:
    """Run ``write``; numpy's refusals (read-only memory, unsafe casts) name the op."""
    try:
        write()
    except (TypeError, ValueError) as error:
        message = str(error)
        if message.startswith(f"{name}:"):
            raise
        if "read-only" in message:
            raise ValueError(
                f"{name}: the tensor's memory is read-only (a broadcast view?); use the out-of-place form"
            ) from None
        if "broadcast" in message:
            raise ValueError(
                f"{name}: the result does not fit in place into a tensor of shape {target.shape} (an in-place op "
                f"cannot change a tensor's shape): {message}"
            ) from None
        if "cast" in message:
            raise TypeError(f"{name}: cannot store the result in a tensor of dtype {target.dtype}: {message}") from None
        raise type(error)(f"{name}: {message}") from None
