"""Data layer: DataLoader."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_nn import Tensor
from autograd_nn.data import DataLoader, Dataset, TensorDataset


# --------------------------------------------------------------------------- DataLoader
def test_tensor_dataset_rows_and_errors():
    X = np.arange(12.0).reshape(6, 2)
    ds = TensorDataset(X, Tensor(np.arange(6)))
    assert len(ds) == 6
    x3, y3 = ds[3]
    assert isinstance(x3, Tensor) and x3.tolist() == [6.0, 7.0] and y3.item() == 3
    with pytest.raises(ValueError, match=r"same first dimension.*\(6, 2\).*\(5,\)"):
        TensorDataset(X, np.zeros(5))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float64(1.0))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


@pytest.mark.parametrize(
    "n, batch_size, drop_last",
    [(10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False), (2, 5, True), (0, 4, False)],
)
def test_loader_batches_cover_the_data(n, batch_size, drop_last):
    X = np.arange(n, dtype=np.float64)[:, None] * np.array([1.0, -1.0])
    labels = np.arange(n)
    for shuffle in (False, True):
        loader = DataLoader(
            TensorDataset(X, labels), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=1
        )
        batches = list(loader)
        assert len(batches) == len(loader)
        sizes = [len(b[1]) for b in batches]
        full, rest = divmod(n, batch_size)
        assert sizes == [batch_size] * full + ([] if drop_last or rest == 0 else [rest])
        seen = np.concatenate([b[1].numpy() for b in batches]) if batches else np.array([], dtype=int)
        for xb, yb in batches:
            assert isinstance(xb, Tensor) and not xb.requires_grad
            np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()])  # rows stay paired
        if not shuffle:
            np.testing.assert_array_equal(seen, np.arange(len(seen)))
        assert len(set(seen.tolist())) == len(seen)  # no sample twice in an epoch
        if not drop_last:
            assert sorted(seen.tolist()) == list(range(n))


def test_shuffle_is_reproducible_and_new_each_epoch():
    ds = TensorDataset(np.arange(50))

    def epochs(loader, k=3):
        return [np.concatenate([b[0].numpy() for b in loader]) for _ in range(k)]

    a = epochs(DataLoader(ds, batch_size=7, shuffle=True, seed=3))
    b = epochs(DataLoader(ds, batch_size=7, shuffle=True, seed=3))
    c = epochs(DataLoader(ds, batch_size=7, shuffle=True, seed=4))
    for ea, eb in zip(a, b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a[0], c[0])
    assert all(sorted(e.tolist()) == list(range(50)) for e in a)
    # A Generator is drawn from as given: same state, same permutation.
    g = DataLoader(ds, batch_size=50, shuffle=True, generator=np.random.default_rng(9))
    np.testing.assert_array_equal(next(iter(g))[0].numpy(), np.random.default_rng(9).permutation(50))


def test_unshuffled_batches_are_read_only_views():
    X = np.arange(8.0).reshape(4, 2)
    (xb,) = next(iter(DataLoader(TensorDataset(X), batch_size=2)))
    assert np.shares_memory(xb.numpy(), X)
    with pytest.raises(ValueError):
        xb.numpy()[0, 0] = 99.0
    assert X[0, 0] == 0.0 and X.flags.writeable


def test_loader_on_a_generic_dataset_collates_samples():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float64), i % 2

    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    x, parity = batches[1]
    np.testing.assert_array_equal(x.numpy(), [[2.0, 4.0], [3.0, 9.0]])
    np.testing.assert_array_equal(parity.numpy(), [0, 1])

    class Plain:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, float(i))

    (only,) = list(DataLoader(Plain(), batch_size=3))
    assert isinstance(only, Tensor) and only.shape == (3, 2)


def test_loader_rejects_bad_arguments():
    ds = TensorDataset(np.zeros(3))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(ValueError, match="either seed or generator"):
        DataLoader(ds, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(42)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, generator=1)
