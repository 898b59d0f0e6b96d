"""Warning classes of the package, all importable from :mod:`divergences`."""

__all__ = ["CacheWarning", "ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped before meeting its stopping rule.

    The result it returned has ``converged=False``; the message says which option to
    change (usually ``max_iter``).
    """


class CacheWarning(UserWarning):
    """The numba cache could not be used; the kernels are compiled instead (slower start).

    Emitted once per process when the cache directory is unwritable or a cached file is
    damaged. Results are unaffected; set ``NUMBA_CACHE_DIR`` to a writable directory to
    keep the compiled kernels between processes.
    """
