"""Softmax cross-entropy at integer class labels: ``cross_entropy``'s one node when no class
weights or ignored labels need the general graph. The labels index the logits (a gather in
the forward, a scatter in the backward), as a hand-written training step does, instead of
multiplying by a one-hot target; they are a parameter of the op, not an input: no δ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import is_tensor
from ..function import Function
from ..registry import register_op
from ._kept import kept
from .activation import shifted_by_max
from .loss import check_reduction, mean_of_all, reduce, reduce_reference


def _at_labels(labels: np.ndarray, axis: int) -> tuple[Any, ...]:
    """The advanced index of each sample's labelled logit: ``z[index]`` has the labels' shape."""
    if labels.ndim == 1 and axis == 1:  # (N, C): the common case, without a grid
        return np.arange(labels.shape[0]), labels
    grids = np.ogrid[tuple(slice(n) for n in labels.shape)] if labels.ndim else []
    return (*grids[:axis], labels, *grids[axis:])


def smoothed_one_hot(labels: np.ndarray, classes: int, axis: int, dtype: Any, label_smoothing: float) -> np.ndarray:
    """y = (1 − ε) onehot(labels) + ε/C, with the class axis at ``axis``."""
    along_classes = (classes,) + (1,) * (labels.ndim - axis)
    y = (np.expand_dims(labels, axis) == np.arange(classes).reshape(along_classes)).astype(dtype)
    return y * (1 - label_smoothing) + label_smoothing / classes if label_smoothing else y


def softmax_cross_entropy_primitives(z: Any, y: Any, *, axis: int, reduction: str = "mean") -> Any:
    """−Σₖ yₖ ln softmax(z)ₖ in primitives: what SoftmaxCrossEntropy computes, and the graph
    explain_backward and the ONNX exporter read for both softmax cross-entropies."""
    return reduce(-(z.log_softmax(axis=axis) * y).sum(axis=axis), reduction, "cross_entropy")


def _labels_primitives(z: Any, *, labels: Any, axis: int, reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    """What SoftmaxCrossEntropyLabels computes, in primitives: y the labels' smoothed one-hot."""
    y = smoothed_one_hot(np.asanyarray(labels), z.shape[axis], axis, z.dtype, label_smoothing)
    return softmax_cross_entropy_primitives(z, y, axis=axis, reduction=reduction)


def _labels_reference(z: np.ndarray, labels: np.ndarray, axis: int, reduction: str, label_smoothing: float) -> np.ndarray:
    log_p = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    picked = np.take_along_axis(log_p, np.expand_dims(labels, axis), axis).squeeze(axis)
    return reduce_reference(-(1 - label_smoothing) * picked - label_smoothing * log_p.mean(axis=axis), reduction)


def _labels_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here
    from hypothesis.extra import numpy as hnp

    classes = draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(classes,), (draw(st.integers(1, 3)), classes),
                                  (draw(st.integers(1, 2)), classes, draw(st.integers(1, 2)))]))  # fmt: skip
    axis = 0 if len(shape) == 1 else 1
    labels = draw(hnp.arrays(np.int64, shape[:axis] + shape[axis + 1 :], elements=st.integers(0, classes - 1)))
    return [shape], {"labels": labels, "axis": axis, "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
                     "label_smoothing": draw(st.sampled_from([0.0, 0.2]))}  # fmt: skip


@register_op(
    reference=_labels_reference, shapes=_labels_shapes, domain=(-5, 5), decomposition=_labels_primitives, role="loss",
)  # fmt: skip
class SoftmaxCrossEntropyLabels(Function):
    """ℓ = ln Σₖ e^zₖ − (1 − ε) z_y − (ε/C) Σₖ zₖ per sample, then C = mean ℓ (or Σ, or each);
    δz = δℓ · (softmax(z) − (1 − ε) onehot(y) − ε/C)

    −Σₖ yₖ ln softmax(z)ₖ for the labels' one-hot y smoothed by ε = ``label_smoothing``,
    computed by indexing: the forward picks each sample's labelled shifted logit, the
    backward subtracts at it. ``labels`` (integers of the input's shape without the class
    axis ``axis``) must be classes in [0, C): ``cross_entropy`` checks them. A class whose
    logit is −∞ (masked out) counts for nothing unless it is the label (or ε > 0): then ℓ = ∞.
    """

    @staticmethod
    def forward(
        ctx: Any, z: Any, *, labels: Any, axis: int, reduction: str = "mean", label_smoothing: float = 0.0
    ) -> Any:
        check_reduction(reduction, "cross_entropy")
        axis %= z.ndim
        labels = kept(ctx, labels)  # the caller may reuse its array before the backward
        index = _at_labels(labels, axis)
        shifted = shifted_by_max(z, axis)  # z − max z: every e^x ≤ 1, and one of them is 1
        e = np.exp(shifted)
        total = e.sum(axis=axis, keepdims=True)
        picked = shifted[index]
        if label_smoothing:  # (1 − ε) of the label's, ε/C of every class's
            picked = picked * (1 - label_smoothing) + shifted.sum(axis=axis) * (label_smoothing / z.shape[axis])
        losses = np.log(total).reshape(np.shape(labels)) - picked  # ln Σ e^shifted − shifted_y = −ln softmax(z)_y
        ctx.save_for_backward(z)
        ctx.labels, ctx.index, ctx.e, ctx.total = labels, index, e, total
        ctx.axis, ctx.reduction, ctx.label_smoothing = axis, reduction, label_smoothing
        if reduction == "none":
            return losses
        return mean_of_all(losses) if reduction == "mean" else np.add.reduce(losses, axis=None)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        axis, eps, labels = ctx.axis, ctx.label_smoothing, ctx.labels
        if ctx.reduction == "mean":
            grad = grad * (1 / max(np.size(labels), 1))  # 1/n for the n samples
        if is_tensor(z):  # under create_graph: from the recorded z, so δz is differentiable again
            y = smoothed_one_hot(np.asanyarray(labels), z.shape[axis], axis, z.dtype, eps)
            along = tuple(1 if i == axis else n for i, n in enumerate(z.shape))  # the class axis kept, as 1
            per_sample = grad.reshape(along) if ctx.reduction == "none" else grad
            return per_sample * (ctx.xp.exp(z.log_softmax(axis=axis)) - y)
        delta = ctx.e / ctx.total  # softmax(z), a fresh buffer
        if eps:
            delta -= eps / z.shape[axis]
        delta[ctx.index] -= 1 - eps  # softmax(z) − y
        delta *= np.expand_dims(grad, axis) if ctx.reduction == "none" else grad  # δℓ of each sample, along its classes
        return delta
