"""Input checks of partial transport (:mod:`divergences.partial`)."""

from __future__ import annotations

import numpy as np

from ._validation import _real_scalar

__all__ = ["check_mass"]

EPS = float(np.finfo(np.float64).eps)


def check_mass(mass, total_a, total_b):
    """The mass to transport: a finite real in ``(0, min(sum a, sum b)]``.

    A value above the bound by rounding (``sum(a)`` summed in another order) is the
    bound itself.
    """
    mass = _real_scalar(mass, "mass")
    bound = min(total_a, total_b)
    if not 0.0 < mass <= bound * (1.0 + 8.0 * EPS):
        raise ValueError(
            f"mass must be in (0, min(sum(a), sum(b))] = (0, {bound!r}] (the mass that "
            f"partial transport moves; a and b are used as given, not normalised), "
            f"got {mass!r}")
    return min(mass, bound)
