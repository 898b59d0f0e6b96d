"""Input checks of the gradients and the WGAN critic (``return_gradient``,
:func:`divergences.evaluation.wgan_critic`); they reuse the helpers of
:mod:`divergences._validation`. Validators never compute."""

from __future__ import annotations

import numpy as np

__all__ = ["check_bool", "check_hidden", "check_critic_options"]


def check_bool(value, name):
    """A bool (``numpy.bool_`` too); anything else is a TypeError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_hidden(hidden):
    """The hidden layer widths of the critic: a non-empty sequence of integers >= 1 (an
    int means one hidden layer)."""
    from ._validation import check_positive_int

    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        hidden = (hidden,)
    try:
        widths = tuple(hidden)
    except TypeError:
        raise TypeError(f"hidden must be a sequence of layer widths, got "
                        f"{type(hidden).__name__}") from None
    if not widths:
        raise ValueError("hidden must have at least one layer width")
    return tuple(check_positive_int(w, "hidden") for w in widths)


def check_critic_options(constraint, steps, lr, clip, penalty, batch_size):
    """``(constraint, steps, lr, clip, penalty, batch_size)`` of :func:`wgan_critic`;
    ``lr=None`` is returned as ``None`` (the optimiser's default is chosen by the caller)."""
    from ._validation import check_choice, check_positive_int, check_positive_real

    constraint = check_choice(constraint, "constraint", ("gradient_penalty", "weight_clipping"))
    steps = check_positive_int(steps, "steps")
    lr = None if lr is None else check_positive_real(lr, "lr")
    clip = check_positive_real(clip, "clip")
    penalty = check_positive_real(penalty, "penalty")
    batch_size = check_positive_int(batch_size, "batch_size")
    return constraint, steps, lr, clip, penalty, batch_size
