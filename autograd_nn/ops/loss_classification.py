"""Classification losses with PyTorch's semantics (``autograd_nn.functional``): ``nll_loss``
and ``cross_entropy`` (class labels with ``weight``, ``ignore_index`` and ``label_smoothing``,
or class probabilities; inputs (C,), (N, C) or (N, C, d₁, …)), ``binary_cross_entropy``
(``weight``), ``binary_cross_entropy_with_logits`` (``weight``, ``pos_weight``) and
``kl_div``. Targets that are tensors receive their δ where PyTorch gives one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _tracing
from .._record import array_of, is_tensor
from ..function import Function
from ..registry import register_composite, register_op
from .activation import shifted_by_max
from .arithmetic import Where
from .loss import BinaryCrossEntropy, check_reduction, mean_of_all, reduce, reduce_reference, same_shape
from .loss_labels import SoftmaxCrossEntropyLabels, softmax_cross_entropy_primitives
from .sorting import along


def _array(value: Any) -> np.ndarray:
    return np.asanyarray(array_of(value))


def _in_dtype(target: Any, dtype: np.dtype) -> Any:
    """The target in the input's dtype. A tensor target is cast by a recorded op, so that it
    keeps its δ (casting its array would cut it from the graph, silently)."""
    if is_tensor(target):
        return target if target.dtype == dtype else target.astype(dtype)
    array = np.asanyarray(target)
    return array if array.dtype == dtype else array.astype(dtype)


def _class_axis(input: Any, op_name: str) -> int:  # noqa: A002
    if input.ndim == 0:
        raise ValueError(f"{op_name}: input must have a class axis: shape (C,), (N, C) or (N, C, d1, ...), got ()")
    return 0 if input.ndim == 1 else 1


def _class_weights(weight: Any, classes: int, dtype: np.dtype, op_name: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = _array(weight).astype(dtype, copy=False)
    if w.shape != (classes,):
        raise ValueError(f"{op_name}: weight must have shape ({classes},), one per class, got {w.shape}")
    return w


def _labels(input: Any, target: Any, axis: int, ignore_index: int, op_name: str) -> tuple[np.ndarray, np.ndarray]:  # noqa: A002
    """The labels (ignored ones replaced by 0) and the mask of ignored ones, checked."""
    labels = _array(target)
    expected = input.shape[:axis] + input.shape[axis + 1 :]
    if labels.shape != expected:
        raise ValueError(
            f"{op_name}: class labels must have shape {expected} for input of shape {input.shape}, got {labels.shape}"
        )
    ignored = labels == ignore_index
    classes = input.shape[axis]
    # NOTE: checked by a mask of the labels' shape, not on labels[~ignored], whose shape is the
    # number of counted labels: a compiled step's replay would find another count there
    # (an empty array when every label is ignored, whose min() raises).
    if (~ignored & ((labels < 0) | (labels >= classes))).any():
        used = labels[~ignored]
        raise ValueError(f"{op_name}: class labels must be in [0, {classes}), got values in [{used.min()}, {used.max()}]")
    return np.where(ignored, 0, labels), ignored


def _counted(input: Any, target: Any, axis: int, ignore_index: int) -> np.ndarray | None:  # noqa: A002
    """The labels if each is a class in [0, C) and ``ignore_index`` is none (so no label is
    ignored), else None (``_labels`` then checks them): one reduction, where ``_labels`` makes five passes."""
    labels = _array(target)
    classes = input.shape[axis]
    if 0 <= ignore_index < classes or labels.shape != input.shape[:axis] + input.shape[axis + 1 :] or not labels.size:
        return None
    as_unsigned = labels if labels.dtype.kind == "u" else labels.view(f"u{labels.itemsize}")  # a label < 0 is ≥ 2⁶³ here
    return labels if as_unsigned.max() < classes else None


def nll_parts(input: Any, labels: np.ndarray, ignored: np.ndarray, w: np.ndarray | None, axis: int) -> tuple[Any, np.ndarray, np.ndarray]:  # noqa: A002
    """(−w_y · input_y per element, w_y per element with 0 where ignored, the mask of counted labels),
    for labels and class weights already checked (``_labels``, ``_class_weights``)."""
    per = (np.ones(labels.shape, input.dtype) if w is None else _at(w, labels)) * ~ignored
    picked = input[along(np.expand_dims(labels, axis), axis)].reshape(labels.shape)
    return -picked * per, per, ~ignored


def _at(w: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``w[labels]``, which a compiled step replays with each call's labels. Indexing the plain
    class weights reads the (watched) labels without a call the recording sees, so the
    per-sample weights would be a constant of the program: the first labels' weights in
    every replay. Indexing the weights as the recording's constant is a recorded call.
    Weights the recording already watches (computed in the step) are indexed as they are."""
    return (_tracing.made(w) if type(w) is np.ndarray else w)[labels]


def _reduce_weighted(losses: Any, per: np.ndarray, reduction: str, op_name: str) -> Any:
    if reduction == "mean":  # PyTorch: divided by the total weight of the counted labels
        total = per.sum()
        # NOTE: with no label counted (every one ignore_index) the mean is 0/0, nan as PyTorch's, but
        # its δ is 0 there, as PyTorch's: divided by 0 itself, δ would be 0·∞ = nan for every logit,
        # and an optimizer step would make every parameter nan. The nan is added as a constant.
        none = total == 0
        mean = losses.sum() / np.where(none, np.ones_like(total), total)
        return mean + np.where(none, np.full_like(total, np.nan), np.zeros_like(total))
    return reduce(losses, reduction, op_name)


def _classification_shapes(kind: str) -> Any:
    def draw_case(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
        from hypothesis import strategies as st  # a test-time dependency, imported only here
        from hypothesis.extra import numpy as hnp

        classes = draw(st.integers(1, 4))
        shape = draw(st.sampled_from([(classes,), (draw(st.integers(1, 3)), classes),
                                      (draw(st.integers(1, 2)), classes, draw(st.integers(1, 2)))]))  # fmt: skip
        axis = 0 if len(shape) == 1 else 1
        target_shape = shape[:axis] + shape[axis + 1 :]
        params: dict[str, Any] = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
        if kind in ("labels", "nll"):
            params["target"] = draw(hnp.arrays(np.int64, target_shape, elements=st.integers(0, classes - 1)))
        else:
            raw = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
            params["target"] = raw
        if draw(st.booleans()):
            params["weight"] = draw(hnp.arrays(np.float64, (classes,), elements=st.floats(0.25, 2.0)))
        if kind != "nll":
            params["label_smoothing"] = draw(st.sampled_from([0.0, 0.2]))
        return [shape], params

    return draw_case


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _nll_reference(logp: np.ndarray, target: np.ndarray, reduction: str, weight: Any = None) -> np.ndarray:
    axis = 0 if logp.ndim == 1 else 1
    w = np.ones(logp.shape[axis]) if weight is None else weight
    picked = np.take_along_axis(logp, np.expand_dims(target, axis), axis).squeeze(axis)
    losses = -picked * w[target]
    return losses.sum() / w[target].sum() if reduction == "mean" else reduce_reference(losses, reduction)


@register_composite(
    reference=lambda logp, target, reduction, weight=None: _nll_reference(logp, target, reduction, weight),
    shapes=_classification_shapes("nll"), arity=1, functional="nll_loss",
)  # fmt: skip
def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> Any:  # noqa: A002
    """C = −w_y · input_y, the negative log-likelihood of log-probabilities ``input`` (class axis 1,
    or 0 for a (C,) input) at integer labels ``target``; labels equal to ``ignore_index`` count
    for nothing, and 'mean' divides by the total weight of the others (PyTorch's rule)."""
    axis = _class_axis(input, "nll_loss")
    labels, ignored = _labels(input, target, axis, ignore_index, "nll_loss")
    w = _class_weights(weight, input.shape[axis], input.dtype, "nll_loss")
    losses, per, _ = nll_parts(input, labels, ignored, w, axis)
    return _reduce_weighted(losses, per, reduction, "nll_loss")




def _softmax_cross_entropy_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    classes = draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(classes,), (draw(st.integers(1, 3)), classes),
                                  (draw(st.integers(1, 2)), classes, draw(st.integers(1, 2)))]))  # fmt: skip
    return [shape, shape], {"axis": 0 if len(shape) == 1 else 1, "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


@register_op(
    reference=lambda z, y, axis, reduction: reduce_reference(-(_log_softmax(z, axis) * y).sum(axis), reduction),
    shapes=_softmax_cross_entropy_shapes, domain=[(-5, 5), (0.0, 1.0)], decomposition=softmax_cross_entropy_primitives,
    role="loss",
)  # fmt: skip
class SoftmaxCrossEntropy(Function):
    """ℓ = −Σₖ yₖ ln softmax(z)ₖ per sample, then C = mean ℓ (or Σ, or each);
    δz = δℓ · (softmax(z) Σₖ yₖ − y)  (= δℓ · (softmax(z) − y) for one-hot y),  δy = −δℓ · ln softmax(z)

    ``cross_entropy``'s one node at class probabilities when no class weights need the
    general graph (integer labels have their own, ``SoftmaxCrossEntropyLabels``), instead of
    five (log_softmax, multiply, sum, negate, mean), with the post's δ^L in one step. The class
    axis is ``axis``.
    A class whose logit is −∞ (masked out) and whose target is 0 counts for nothing (0 · ln 0 = 0),
    as in PyTorch's labels path; its probabilities path gives nan there.
    """

    @staticmethod
    def forward(ctx: Any, z: Any, y: Any, *, axis: int, reduction: str = "mean") -> Any:
        check_reduction(reduction, "cross_entropy")
        log_p = shifted_by_max(z, axis)  # a fresh buffer of ours
        p = np.exp(log_p)
        total = p.sum(axis=axis, keepdims=True)
        log_p -= np.log(total)
        p /= total
        with np.errstate(invalid="ignore"):  # 0 · (−∞) where a class's logit is −∞ (masked out): below
            losses = -np.multiply(log_p, y).sum(axis=axis)
        if np.isnan(losses).any():  # such a class, with a target of 0, counts for nothing (PyTorch's labels)
            losses = -np.multiply(log_p, y, out=np.zeros_like(log_p), where=y != 0).sum(axis=axis)
        ctx.save_for_backward(z, y)
        ctx.axis, ctx.reduction, ctx.log_p, ctx.p = axis, reduction, log_p, p
        if reduction == "none":
            return losses
        return mean_of_all(losses) if reduction == "mean" else np.add.reduce(losses, axis=None)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        z, y = ctx.saved_tensors
        axis = ctx.axis
        need_z, need_y = ctx.needs_input_grad
        if is_tensor(z):  # under create_graph: recomputed from the recorded z, so δz is differentiable again
            log_p = z.log_softmax(axis=axis)
            p = ctx.xp.exp(log_p)
        else:
            log_p, p = ctx.log_p, ctx.p
        kept = tuple(1 if i == axis % z.ndim else n for i, n in enumerate(z.shape))  # the class axis kept, as 1
        if ctx.reduction == "mean":
            grad = grad * (z.shape[axis] / max(z.size, 1))  # 1/n for each of the n = size / classes samples
        per_sample = grad.reshape(kept) if ctx.reduction == "none" else grad
        grad_z = per_sample * (p * y.sum(axis=axis, keepdims=True) - y) if need_z else None
        grad_y = -(per_sample * log_p) if need_y else None
        return grad_z, grad_y


def _cross_entropy_reference(z: np.ndarray, target: np.ndarray, reduction: str, weight: Any = None,
                             label_smoothing: float = 0.0) -> np.ndarray:  # fmt: skip
    axis = 0 if z.ndim == 1 else 1
    classes = z.shape[axis]
    logp = _log_softmax(z, axis)
    w = np.ones(classes) if weight is None else weight
    w_b = w.reshape((classes,) + (1,) * (z.ndim - axis - 1))
    if np.issubdtype(target.dtype, np.integer):
        nll = _nll_reference(logp, target, reduction, weight)
        smooth = -(logp * w_b).sum(axis)
        smooth = smooth.sum() / w[target].sum() if reduction == "mean" else reduce_reference(smooth, reduction)
        return (1 - label_smoothing) * nll + smooth * (label_smoothing / classes)
    target = target * (1 - label_smoothing) + label_smoothing / classes
    return reduce_reference(-(logp * target * w_b).sum(axis), reduction)


@register_composite(
    name="cross_entropy(labels)", reference=_cross_entropy_reference, shapes=_classification_shapes("labels"), arity=1,
)  # fmt: skip
@register_composite(
    name="cross_entropy(probabilities)", reference=_cross_entropy_reference, arity=1, functional="cross_entropy",
    shapes=_classification_shapes("probabilities"),
)  # fmt: skip
def cross_entropy(input: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",  # noqa: A002
                  label_smoothing: float = 0.0) -> Any:  # fmt: skip
    """C = −Σₖ wₖ yₖ ln softmax(z)ₖ for logits ``input`` (class axis 1, or 0 for (C,)), as PyTorch:
    ``target`` is integer labels (``ignore_index``, 'mean' over the labels' total weight) or
    class probabilities of the input's shape (a tensor target receives its δ).
    ``label_smoothing=ε`` mixes the target with the uniform distribution: (1 − ε)y + ε/C.
    Computed through log_softmax, so it stays finite for any finite logits."""
    axis = _class_axis(input, "cross_entropy")
    classes = input.shape[axis]
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    w = _class_weights(weight, classes, input.dtype, "cross_entropy")
    along_classes = (classes,) + (1,) * (input.ndim - axis - 1)
    target_dtype = _array(target).dtype
    if np.issubdtype(target_dtype, np.integer):
        ignored = None
        labels = _counted(input, target, axis, ignore_index) if w is None else None  # valid, none ignored
        if labels is None:
            labels, ignored = _labels(input, target, axis, ignore_index, "cross_entropy")
        if w is None and (ignored is None or not ignored.any()):  # every label counts, none weighted: one node
            return SoftmaxCrossEntropyLabels.apply(input, labels=labels, axis=axis, reduction=reduction,
                                                   label_smoothing=label_smoothing)  # fmt: skip
        logp = input.log_softmax(axis=axis)
        losses, per, counted = nll_parts(logp, labels, ignored, w, axis)
        loss = _reduce_weighted(losses, per, reduction, "cross_entropy")
        if label_smoothing == 0:
            return loss
        spread = logp if w is None else logp * w.reshape(along_classes)
        smooth = -spread.sum(axis=axis) * counted.astype(input.dtype)
        smooth = _reduce_weighted(smooth, per, reduction, "cross_entropy")
        return loss * (1 - label_smoothing) + smooth * (label_smoothing / classes)
    if not np.issubdtype(target_dtype, np.floating) or np.shape(target) != input.shape:
        if np.issubdtype(target_dtype, np.floating) and np.ndim(target) == input.ndim - 1:
            raise TypeError(
                f"cross_entropy: class labels must be integers, got dtype {target_dtype} for target of shape "
                f"{np.shape(target)} (class probabilities must have the input's shape {input.shape})"
            )
        same_shape(input, target, "cross_entropy")
    target = _in_dtype(target, input.dtype)
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    if w is None:
        return SoftmaxCrossEntropy.apply(input, target, axis=axis, reduction=reduction)
    weighted = input.log_softmax(axis=axis) * target * w.reshape(along_classes)
    return reduce(-weighted.sum(axis=axis), reduction, "cross_entropy")


def _binary_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    return [shape, shape], {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


@register_composite(
    reference=lambda p, y, reduction: reduce_reference(-(y * np.log(p) + (1 - y) * np.log1p(-p)), reduction),
    shapes=_binary_shapes, domain=[(0.02, 0.98), (0.0, 1.0)], arity=2, functional="binary_cross_entropy",
)  # fmt: skip
def binary_cross_entropy(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> Any:  # noqa: A002
    """ℓ = −w [y ln p + (1 − y) ln(1 − p)] for probabilities p ∈ [0, 1] (logs clamped at −100,
    as PyTorch; nan or p outside [0, 1] is refused). A tensor target receives its δ."""
    same_shape(input, target, "binary_cross_entropy")
    target = _in_dtype(target, input.dtype)
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _array(weight).astype(input.dtype, copy=False)
    return reduce(loss, reduction, "binary_cross_entropy")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


@register_composite(
    reference=lambda z, y, reduction: reduce_reference(-(y * np.log(_sigmoid(z)) + (1 - y) * np.log(_sigmoid(-z))),
                                                       reduction),
    shapes=_binary_shapes, domain=[(-8, 8), (0.0, 1.0)], arity=2, functional="binary_cross_entropy_with_logits",
)  # fmt: skip
def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, reduction: str = "mean",  # noqa: A002
                                     pos_weight: Any = None) -> Any:  # fmt: skip
    """ℓ = w [(1 − y) z + (1 + (q − 1) y) softplus(−z)] = −w [q y ln σ(z) + (1 − y) ln(1 − σ(z))]
    on logits z, stable and to full relative accuracy for any z (computed as
    softplus(−|z|) − z·(y − [z > 0])); ``pos_weight`` q weighs the positives (broadcast along
    the last axis, one per class). A tensor target receives its δ."""
    same_shape(input, target, "binary_cross_entropy_with_logits")
    target = _in_dtype(target, input.dtype)
    # NOTE: softplus without its linear cut-off (PyTorch's F.softplus default, z past 20 taken as
    # z): there, softplus(z) − z·y dropped ln(1 + e⁻ᶻ), the whole loss of a confident right
    # answer (z = 20.5, y = 1: loss and δz 0, not 1.25e-9 and −1.25e-9).
    # NOTE: softplus(z) = softplus(−|z|) + max(z, 0), so the loss is softplus(−|z|) − z·(y − m)
    # with m = [z > 0]: a sum of two terms ≥ 0. Written as softplus(z) − z·y, the difference of
    # two numbers near z lost the whole loss of a confident right answer (z = 40, y = 1: 0, not
    # 4.2e-18; 0 from z = 15 on in float32), and δz = σ(z) − y lost its digits the same way.
    # m and the fold f = 1 − 2m (z·f = −|z|, exactly) are recorded ops on z, relu(sign z), so
    # that ONNX export and replay compute them from each new input (masks of .data would be
    # constants of the example). Their δ is 0, through sign: δz = f σ(−|z|) − (y − m), two
    # terms that do not cancel (y = 1, z ≫ 0: −σ(−z) + 0), and f = 1 at z = 0, where
    # −|z| = −z·sign(z) would have δz = −y, not ½ − y.
    above = input.sign().relu()  # m = [z > 0]
    folded = input * (1 - 2 * above)  # −|z|
    if pos_weight is None:  # softplus(−|z|) − z·(y − m): the graph explain_backward reads
        loss = folded.softplus(threshold=math.inf) - input * (target - above)
    else:  # (1 + (q − 1)y) softplus(−|z|) + z·(m − y(m + q(1 − m))): every term ≥ 0 again, and m − y·1 = 0 exactly
        q = _array(pos_weight).astype(input.dtype, copy=False)
        loss = folded.softplus(threshold=math.inf) * ((q - 1) * target + 1) + input * (
            above - target * (above + (1 - above) * q))
    if weight is not None:
        loss = loss * _array(weight).astype(input.dtype, copy=False)
    return reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _kl_reference(x: np.ndarray, t: np.ndarray, reduction: str, log_target: bool) -> np.ndarray:
    pointwise = np.exp(t) * (t - x) if log_target else t * (np.log(t) - x)
    if reduction == "batchmean":
        return pointwise.sum() / (x.shape[0] if x.ndim else 1)
    return reduce_reference(pointwise, reduction)


@register_composite(
    reference=_kl_reference, shapes="same", domain=[(-3, 0), (0.05, 1.0)], arity=2, functional="kl_div",
    params={"reduction": ("mean", "sum", "none", "batchmean"), "log_target": (False, True)},
)  # fmt: skip
def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Any:  # noqa: A002
    """ℓ = y (ln y − x) for log-probabilities x and probabilities y (0 where y = 0), or
    e^y (y − x) with ``log_target=True``; 'batchmean' divides the sum by the batch size
    (the KL divergence proper), 'mean' by the number of elements, as PyTorch."""
    same_shape(input, target, "kl_div")
    if not hasattr(target, "log"):  # a constant target: a tensor that needs no gradient
        target = input.__autograd_tensor__(np.asanyarray(target, dtype=input.dtype))
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        # NOTE: y ln y → 0 as y → 0; the log's argument is 1 there, so no 0 · (−∞) = nan
        safe = Where.apply(target, np.ones((), input.dtype), condition=np.asanyarray(target.data > 0))
        pointwise = target * safe.log() - target * input
    if reduction == "batchmean":
        return pointwise.sum() * (1.0 / (input.shape[0] if input.ndim else 1))
    return reduce(pointwise, reduction, "kl_div")
