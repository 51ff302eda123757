"""Write your own op: swish(z) = z · σ(z), its derivative, and the checks that prove it.

    python examples/custom_op.py

``forward`` and ``backward`` sit side by side; ``backward`` uses only operators and
``ctx.xp``, so the same formula also gives second derivatives (``create_graph=True``).
"""

from __future__ import annotations

import numpy as np

import autograd_nn as ag
from autograd_nn.testing import gradcheck, gradgradcheck


class Swish(ag.Function):
    """a = z σ(z);  δz = δa · (σ(z) + z σ(z)(1 − σ(z)))"""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * ctx.xp.sigmoid(z)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved
        s = ctx.xp.sigmoid(z)
        return grad * (s + z * s * (1 - s))


def swish(z):
    return Swish.apply(z)


def main() -> None:
    z = ag.tensor(np.linspace(-4, 4, 9), requires_grad=True)
    print("swish:", np.round(swish(z).data, 4))
    assert gradcheck(swish, [z])  # first derivative vs central finite differences (float64)
    assert gradgradcheck(swish, [z])  # second derivative, through create_graph=True
    # An independent reference: torch-free closed form of the derivative.
    swish(z).sum().backward()
    s = 1 / (1 + np.exp(-z.data))
    assert np.allclose(z.grad.data, s + z.data * s * (1 - s))
    print("gradcheck and gradgradcheck passed")


if __name__ == "__main__":
    main()
