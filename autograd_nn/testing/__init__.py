"""Tools to test gradients: of our ops and of yours.

``gradcheck`` compares every element of every analytic gradient with central finite
differences in float64.
"""

from __future__ import annotations

from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]
