"""PyTorch's spellings that autograd_nn accepts on purpose (docs/from_pytorch.md), each
checked against torch itself when it is installed (it is in CI) or a closed form."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag


def test_size_is_numpys_count_and_pytorchs_call():
    t = ag.tensor(np.zeros((2, 3)))
    assert t.size == 6 and isinstance(t.size, int) and t.size + 1 == 7  # numpy: an int
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2  # PyTorch: the shape
    with pytest.raises(IndexError, match=r"size: dim 2 is out of range for a tensor of shape \(2, 3\)"):
        t.size(2)
    assert t.numel() == t.nelement() == 6 and t.dim() == t.ndim == 2
