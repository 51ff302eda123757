"""Deliberate bugs in the copies ops keep of the caller's index, label and mask arrays
(``ops/_kept.py`` and the ops that use it): (id, file, old text, new text, tests, why)."""

from __future__ import annotations

SAVED = ("tests/core/test_saved_arguments.py",)
REPLAYED = ("tests/replay/test_replay_array_arguments.py",)
KEPT = "autograd_nn/ops/_kept.py"

MUTATIONS = [
    ("core-saved-embedding-indices-shared", "autograd_nn/ops/embedding.py",
     'indices = kept(ctx, checked_indices(indices, weight.shape[0], "embedding"))',
     'indices = checked_indices(indices, weight.shape[0], "embedding")', SAVED,
     "F.embedding keeps the caller's index array: changed before backward, δW goes to the wrong rows"),
    ("core-saved-ce-labels-shared", "autograd_nn/ops/loss_labels.py",
     "        labels = kept(ctx, labels)  # the caller may reuse its array before the backward\n", "", SAVED,
     "cross_entropy's labels node keeps the caller's labels: changed before backward, δz subtracts at the wrong classes"),
    ("core-saved-getitem-index-shared", "autograd_nn/ops/shape.py",
     "ctx.input_shape, ctx.index = x.shape, kept_index(ctx, index)", "ctx.input_shape, ctx.index = x.shape, index",
     SAVED, "x[idx] keeps the caller's idx: changed before backward, δx lands at the new positions"),
    ("core-saved-index-add-index-shared", "autograd_nn/ops/shape.py",
     "        ctx.index = kept_index(ctx, index)\n        return index_add(",
     "        ctx.index = index\n        return index_add(", SAVED,
     "index_add (scatter_add) keeps the caller's index: δ of its source is read at the changed index"),
    ("core-saved-setitem-index-shared", "autograd_nn/ops/inplace.py",
     "ctx.written, ctx.index = written, kept_index(ctx, index)", "ctx.written, ctx.index = written, index", SAVED,
     "x[idx] = v (scatter) keeps the caller's idx: δv is read at the changed index"),
    ("core-saved-plane-gather-index-shared", "autograd_nn/ops/pool.py",
     "ctx.index, ctx.size = kept(ctx, index), x.shape", "ctx.index, ctx.size = index, x.shape", SAVED,
     "PlaneGather (interpolate's gather) keeps the caller's index: δx is scattered to the changed places"),
    ("core-saved-plane-scatter-index-shared", "autograd_nn/ops/pool.py",
     "ctx.index, ctx.dims = kept(ctx, index), len(size)", "ctx.index, ctx.dims = index, len(size)", SAVED,
     "PlaneScatter keeps the caller's index: δg is gathered from the changed places"),
    ("core-saved-where-condition-shared", "autograd_nn/ops/arithmetic.py",
     "        ctx.condition = kept(ctx, condition)", "        ctx.condition = condition", SAVED,
     "where/masked_fill keep the caller's mask: changed before backward, δ goes to the wrong side"),
    ("core-saved-tuple-index-arrays-shared", KEPT,
     "                return tuple(_copy(part) if isinstance(part, _ndarray) else part for part in index)",
     "                return index", SAVED,
     "an index of several arrays (x[rows, cols], gather's grids) is kept as the caller's arrays"),
    ("core-saved-copy-always-skipped", KEPT,
     "    return _copy(array) if ctx.needs_input_grad and isinstance(array, _ndarray) else array",
     "    return array", SAVED, "no mask or label array is copied, recorded or not"),
    ("core-saved-recording-constant-copied", KEPT,
     "    if type(array) is _ndarray and _tracing.recording() is not None:", "    if False:", REPLAYED,
     "under compile a plain buffer the step reads is copied: the copy is frozen into the replay, whose backward "
     "then uses the first call's indices while its forward reads the refilled buffer"),
]  # fmt: skip
