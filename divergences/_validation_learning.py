"""Input checks of the gradients and the WGAN critic (``return_gradient``,
:func:`divergences.evaluation.wgan_critic`); they reuse the helpers of
:mod:`divergences._validation`. Validators never compute."""

from __future__ import annotations

import numpy as np

__all__ = ["check_bool"]


def check_bool(value, name):
    """A bool (``numpy.bool_`` too); anything else is a TypeError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)
