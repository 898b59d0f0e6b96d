"""Warning classes of the package."""

__all__ = ["ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped before meeting its stopping rule.

    The result it returned has ``converged=False``; the message says which option to
    change (usually ``max_iter``).
    """
