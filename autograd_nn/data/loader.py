"""Minibatches: ``Dataset``, ``TensorDataset`` and ``DataLoader``, shaped like PyTorch's.

A ``DataLoader`` yields each batch as a tuple of ``Tensor``\\ s (one per array of the
dataset; they never require grad), so a training step reads as it would in PyTorch::

    for X, y in DataLoader(TensorDataset(X_train, y_train), batch_size=128, shuffle=True, seed=0):
        loss = F.mse_loss(model(X), y)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["DataLoader", "Dataset", "TensorDataset", "default_collate"]


class Dataset:
    """Base class of map-style datasets: ``dataset[i]`` is sample ``i`` of ``len(dataset)``.

    Subclass it and define ``__getitem__`` and ``__len__``. Any object with those two
    methods works with ``DataLoader``; the base class only documents the protocol.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Samples are rows of arrays that share their first dimension.

    Parameters
    ----------
    *arrays
        ndarrays, Tensors or array-likes with equal ``len``; Tensors contribute their data
        (the dataset never requires grad). Arrays are held without copying.

    Examples
    --------
    >>> import numpy as np
    >>> from autograd_nn.data import TensorDataset
    >>> ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 2]))
    >>> len(ds)
    3
    >>> ds[1]
    (Tensor([2., 3.]), Tensor(1))
    """

    def __init__(self, *arrays: Any):
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array, got none")
        self.arrays: tuple[np.ndarray, ...] = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        for position, a in enumerate(self.arrays):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: array {position} is 0-d; every array needs a first (sample) dimension"
                )
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(f"TensorDataset: arrays must have the same first dimension, got shapes {shapes}")

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(Tensor(a[index]) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])


def default_collate(samples: Sequence[Any]) -> tuple[Tensor, ...] | Tensor:
    """Stack a list of samples into one batch along a new first axis.

    Samples that are tuples or lists give a tuple of batched Tensors (one per field);
    any other sample (an array, a Tensor, a number) gives a single batched Tensor.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        for sample in samples:
            if len(sample) != width:
                raise ValueError(
                    f"default_collate: samples have different numbers of fields ({width} and {len(sample)})"
                )
        return tuple(_stack([sample[k] for sample in samples]) for k in range(width))
    return _stack(samples)


def _stack(values: Sequence[Any]) -> Tensor:
    arrays = [v.data if isinstance(v, Tensor) else np.asarray(v) for v in values]
    try:
        return Tensor(np.stack(arrays))
    except ValueError as err:
        shapes = sorted({a.shape for a in arrays}, key=str)
        raise ValueError(f"default_collate: cannot stack samples of shapes {shapes} into one batch") from err


class DataLoader:
    """Iterate over a dataset in minibatches, optionally shuffled.

    Parameters
    ----------
    dataset
        A ``TensorDataset`` (batches are gathered with one fancy index per array, no
        per-sample Python loop) or any object with ``__len__`` and ``__getitem__``
        (samples are stacked by ``collate_fn``).
    batch_size
        Samples per batch (the last batch may be smaller unless ``drop_last``).
    shuffle
        Draw a fresh permutation of the samples at the start of every epoch (every
        ``iter(loader)``); otherwise keep the dataset's order.
    drop_last
        Drop the last batch when it has fewer than ``batch_size`` samples.
    seed, generator
        The source of shuffling: a seed for a private ``np.random.default_rng(seed)``, or
        a ``np.random.Generator`` to draw from. Give at most one; with neither, shuffling
        is not reproducible. Two loaders built with the same seed yield the same batches,
        epoch after epoch.
    collate_fn
        Turns a list of samples into a batch, for datasets other than ``TensorDataset``;
        ``default_collate`` by default.

    Yields
    ------
    tuple of Tensor
        For a ``TensorDataset``, one Tensor per array, its first dimension the batch.
        Without shuffling these are read-only views of the dataset's arrays (no copy).

    Examples
    --------
    >>> import numpy as np
    >>> from autograd_nn.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(np.arange(5.0)), batch_size=2)
    >>> len(loader)
    3
    >>> [x.tolist() for (x,) in loader]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    >>> shuffled = DataLoader(TensorDataset(np.arange(5.0)), batch_size=5, shuffle=True, seed=0)
    >>> sorted(next(iter(shuffled))[0].tolist())
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        *,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        collate_fn: Any = None,
    ):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__ (e.g. a TensorDataset), "
                f"got {type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give either seed or generator, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy.random.Generator, got {type(generator).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator if generator is not None else np.random.default_rng(seed)
        self.collate_fn = collate_fn if collate_fn is not None else default_collate

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else None
        stop = n - n % self.batch_size if self.drop_last else n
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            if fast:
                yield self._gather(order, start, end)
            else:
                indices = range(start, end) if order is None else order[start:end]
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def _gather(self, order: np.ndarray | None, start: int, end: int) -> tuple[Tensor, ...]:
        batch = []
        for a in self.dataset.arrays:
            if order is None:
                part = a[start:end]
                # A view: make it read-only so a batch can never write into the dataset.
                part.flags.writeable = False
            else:
                part = a[order[start:end]]
            batch.append(Tensor(part))
        return tuple(batch)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset of {len(self.dataset)} samples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
