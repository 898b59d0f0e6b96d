"""Which threading layer runs the parallel kernels: one that survives ``fork``.

numba runs ``prange`` loops on the first threading layer it can load, in the order of
``NUMBA_THREADING_LAYER_PRIORITY`` (``tbb``, ``omp``, ``workqueue``). On Linux the ``omp``
layer is GNU OpenMP, which is not fork-safe: once a parallel kernel has run, a child
started by ``fork`` (the default of :mod:`multiprocessing` on Linux and of many job
runners) aborts at its first parallel kernel ("fork() called from a process already using
GNU OpenMP") and a ``multiprocessing.Pool`` never returns. ``workqueue`` survives ``fork``
but aborts when two threads launch parallel kernels at once. TBB is safe both ways.

The ``tbb`` wheel from PyPI (a dependency of this package where it exists: Linux x86-64)
installs ``libtbb.so.12`` under ``<prefix>/lib``, a directory the dynamic loader does not
search, so numba cannot load its TBB layer from a pip install. :func:`prefer_tbb` loads
that library by its path, before numba picks a layer, so numba's own choice picks TBB.
It changes nothing when the user chose a layer (``NUMBA_THREADING_LAYER``), when numba
has already started its threads, or when no TBB library is installed.

Where TBB is missing (e.g. Linux on ARM), numba falls back to GNU OpenMP; then
:func:`warn_in_forked_child` warns in a child forked after a parallel kernel ran,
naming the remedies (``pip install tbb``, the ``spawn`` or ``forkserver`` start methods,
``NUMBA_THREADING_LAYER=workqueue``), instead of the bare abort.
"""

from __future__ import annotations

import ctypes
import os
import sys
import warnings

__all__ = ["prefer_tbb", "warn_in_forked_child"]

_TBB_NAME = "libtbb.so.12"


def _tbb_candidates():
    """Paths where the PyPI ``tbb`` wheel may have put the shared library."""
    seen = []
    for prefix in (sys.prefix, sys.exec_prefix, sys.base_prefix):
        path = os.path.join(prefix, "lib", _TBB_NAME)
        if path not in seen:
            seen.append(path)
    yield from seen
    try:  # a --user or --target install: ask the distribution where its files are
        from importlib.metadata import PackageNotFoundError, files

        for f in files("tbb") or ():
            if f.name == _TBB_NAME:
                yield str(f.locate())
    except (ImportError, PackageNotFoundError):
        return


def _numba_started():
    from numba.np.ufunc import parallel

    return bool(parallel._is_initialized)


def prefer_tbb():
    """Load the pip-installed TBB library so numba's default choice is the TBB layer.

    Returns the path loaded, or ``None`` when nothing was done (not Linux, the user chose
    a layer, numba's threads already run, or no TBB library is installed).
    """
    if not sys.platform.startswith("linux") or os.environ.get("NUMBA_THREADING_LAYER"):
        return None
    if _numba_started():
        return None
    for path in _tbb_candidates():
        if os.path.isfile(path):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            return path
    return None


def _gnu_openmp_running():
    if not _numba_started():
        return False
    from numba.np.ufunc import parallel

    if parallel._threading_layer != "omp":
        return False
    from numba.np.ufunc import omppool

    return getattr(omppool, "openmp_vendor", "GNU") == "GNU"


def _after_fork_in_child():
    if _gnu_openmp_running():
        warnings.warn(
            "divergences: this process was forked after numba's GNU OpenMP threads started; "
            "its parallel kernels abort in a forked child. Install TBB (pip install tbb), "
            "start workers with the 'spawn' or 'forkserver' method, or set "
            "NUMBA_THREADING_LAYER=workqueue before importing divergences.",
            RuntimeWarning,
            stacklevel=2,
        )


def warn_in_forked_child():
    """Register the fork hook that warns where the parallel kernels would abort."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
