"""Input checks of unbalanced entropic transport (``reg_m``); raise ValueError/TypeError.

The weights and costs themselves go through :mod:`divergences._validation`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["check_reg_m", "check_hard_masses"]

#: relative difference of masses accepted when both sides are hard (``reg_m = inf``).
MASS_RTOL = 1e-9


def _side(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number (inf allowed), got "
                        f"{type(value).__name__}")
    value = float(value)
    if not value > 0:  # NaN too
        raise ValueError(f"{name} must be > 0 (inf: that marginal is a hard constraint), got "
                         f"{value}")
    return value


def check_reg_m(reg_m):
    """``None`` (balanced), or the pair ``(rho_a, rho_b)`` of marginal relaxations: one real
    for both sides or a pair, each ``> 0``; ``inf`` makes that side a hard constraint."""
    if reg_m is None:
        return None
    if isinstance(reg_m, (str, bytes)):
        raise TypeError(f"reg_m must be a real number or a pair of them, got "
                        f"{type(reg_m).__name__}")
    if np.ndim(reg_m) == 0:
        rho = _side(reg_m.item() if isinstance(reg_m, np.ndarray) else reg_m, "reg_m")
        return rho, rho
    pair = list(np.asarray(reg_m, dtype=object).ravel()) if np.ndim(reg_m) == 1 else None
    if pair is None or len(pair) != 2:
        raise ValueError(f"reg_m must be a real number or a pair (rho_a, rho_b), got shape "
                         f"{np.shape(reg_m)}")
    return _side(pair[0], "reg_m[0]"), _side(pair[1], "reg_m[1]")


def check_hard_masses(a: Any, b: Any, rho: Any) -> NDArray[np.float64]:
    """With both sides hard (``reg_m = inf``) the marginals are constraints: the masses of
    ``a`` and of each column of ``b`` must agree (relative ``MASS_RTOL``); ``b`` is then
    rescaled to the mass of ``a`` exactly. Returns ``b``."""
    if rho is None or rho[0] < np.inf or rho[1] < np.inf:
        return b
    ma, mb = float(a.sum()), b.sum(axis=0)
    if np.any(np.abs(mb - ma) > MASS_RTOL * np.maximum(ma, mb)):
        raise ValueError(f"reg_m=inf on both sides makes both marginals constraints, so a and "
                         f"b must have the same mass; got sum(a)={ma:g} and sum(b)="
                         f"{np.array2string(np.atleast_1d(mb), precision=6)}; use a finite "
                         f"reg_m, or reg_m=None to normalise both")
    return b * (ma / mb)
