"""Keyword names of POT and SciPy, answered with ours.

A POT or SciPy habit (``numItermax=``, ``stopThr=``, ``u_weights=``...) passed to one of our
functions would otherwise end in Python's bare "unexpected keyword argument". Decorate a
public function with :func:`foreign_name_hints` and such a call raises a ``TypeError`` that
names our equivalent instead. The check runs only when a keyword argument is passed and
costs one set intersection; the signature seen by ``inspect`` and Sphinx is unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["FOREIGN_NAMES", "check_foreign_names", "foreign_name_hints"]

#: foreign keyword -> (our name or None, where the foreign name comes from, a hint)
FOREIGN_NAMES: dict[str, tuple[str | None, str, str]] = {
    "numItermax": ("max_iter", "POT", ""),
    "numIterMax": ("max_iter", "POT", ""),
    "stopThr": ("tol", "POT", ""),
    "M": ("cost", "POT", "the cost matrix"),
    "X_s": ("x", "POT", "the source points"),
    "X_t": ("y", "POT", "the target points"),
    "u_values": ("x", "SciPy and POT", "the first sample"),
    "v_values": ("y", "SciPy and POT", "the second sample"),
    "u_weights": ("a", "SciPy and POT", "the weights of x"),
    "v_weights": ("b", "SciPy and POT", "the weights of y"),
    "pk": ("p", "SciPy", "the first histogram"),
    "qk": ("q", "SciPy", "the second histogram"),
    "log": (None, "POT", "transport(), emd() and sinkhorn() return a TransportResult, which "
                         "holds the plan, the potentials, n_iter and the convergence status"),
    "verbose": (None, "POT", "read n_iter, converged and status of the result instead"),
}

F = TypeVar("F", bound=Callable[..., Any])


def check_foreign_names(function: str, options: Mapping[str, Any],
                        accepted: frozenset[str] = frozenset()) -> None:
    """Raise ``TypeError`` if ``options`` holds a POT/SciPy keyword that ``function`` does
    not accept (names in ``accepted`` are the function's own and pass)."""
    found = [name for name in options if name in FOREIGN_NAMES and name not in accepted]
    if not found:
        return
    parts = []
    for name in found:
        ours, origin, hint = FOREIGN_NAMES[name]
        if ours is None:
            parts.append(f"{name}= ({origin}) has no equivalent here: {hint}")
        elif ours in accepted or not accepted:
            parts.append(f"{name}= is {origin}'s name; use {ours}= here"
                         + (f" ({hint})" if hint else ""))
        else:
            parts.append(f"{name}= is {origin}'s name for {ours}=, which {function}() "
                         "does not take")
    raise TypeError(f"{function}() got an unexpected keyword argument: " + "; ".join(parts))


def foreign_name_hints(func: F) -> F:
    """Decorator: a call passing a POT/SciPy keyword gets a ``TypeError`` naming ours."""
    accepted = frozenset(inspect.signature(func).parameters)
    foreign = frozenset(FOREIGN_NAMES) - accepted

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs and not foreign.isdisjoint(kwargs):
            check_foreign_names(func.__name__, kwargs, accepted)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
